-- wrk script: POST RouteInputs (one per line of $REQS, in turn) to /v1/route with the API token.
local lines = {}
for line in io.lines(os.getenv("REQS")) do
  if #line > 0 then lines[#lines + 1] = line end
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

-- Format every request once: building each one per call cost wrk more CPU than a
-- request costs the server's HTTP layer, on the same 2 cores. In init, not at load: wrk sets
-- the Host header just before init, and the hall refuses requests without one (421).
local requests = {}
function init(args)
  for n, body in ipairs(lines) do requests[n] = wrk.format(nil, "/v1/route", nil, body) end
end

function request()
  i = i % #requests + 1
  return requests[i]
end

-- One machine-readable line for run.sh.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"non_2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
