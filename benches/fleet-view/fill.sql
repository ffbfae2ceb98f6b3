-- 10 million central decisions from 10 halls for the fleet view's benchmark (benches/fleet-view/run.sh),
-- made by generate_series in the server: decision g (0-based, oldest first) is hall g % 10's
-- seq g / 10 + 1, 0.26 s after decision g - 1, over the 30 days up to now; 50 tenants, 200
-- capabilities, 4 envs, 10% denied (5 deny codes), each independent of the hall (derived from
-- the seq, or hashed); 3 consecutive decisions (so 3 halls) per correlation id. Bodies are ~330 B: a RouteDecision's identifying fields only (a hall's are
-- ~1.1-2 KB; the full ones took more disk than the shared bench machine had). The hashes are
-- sha256 of the body, not a chain: the benchmark reads, `fleet verify` is not run on this data.
-- psql -v rows=N sets the count (default 10,000,000).
\if :{?rows}
\else
\set rows 10000000
\endif
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
SELECT set_config('bench.start', (now() - interval '30 days')::text, false);
SELECT fleet_ensure_month(now() - interval '30 days' + (i || ' days')::interval)
FROM generate_series(0, 30) i;
INSERT INTO halls (hall_id, public_key, name, last_contact, backlog, genesis)
SELECT 'hall-' || lpad(h::text, 2, '0'), 'bench-key-' || h, 'host-' || h, now() - (h * interval '1 minute'),
       h * 100, '\x00'::bytea
FROM generate_series(0, 9) h;
-- One statement per million rows, so progress shows and no transaction grows huge.
SELECT format($f$
INSERT INTO decisions (hall_id, seq, ts, decision_id, correlation_id, tenant_id, capability_id,
    matched_rule_id, worker, env, data_label, qos_class, denied, deny_code, deny_message, dry_run,
    artifact_hash, prev_hash, hash, body)
SELECT hall_id, seq, ts, decision_id, correlation_id, tenant_id, capability_id, rule, worker, env,
       label, qos, denied, code, message, false, NULL, '\x00'::bytea, sha256(convert_to(body, 'UTF8')), body
FROM (
  SELECT *, format('{"decision_id":"%%s","timestamp":"%%s","correlation_id":"%%s","tenant_id":"%%s","capability_id":"%%s","matched_rule_id":"%%s","env":"%%s","data_label":"%%s","qos_class":"%%s","denied":%%s,"deny_reason_if_denied":%%s,"selected_worker_species_id":%%s,"dry_run":false}',
      decision_id, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), correlation_id,
      tenant_id, capability_id, rule, env, label, qos, denied,
      CASE WHEN denied THEN format('{"code":"%%s","message":"%%s"}', code, message) ELSE 'null' END,
      CASE WHEN denied THEN 'null' ELSE '"' || worker || '"' END) AS body
  FROM (
    SELECT 'hall-' || lpad((g %% 10)::text, 2, '0') AS hall_id, g / 10 + 1 AS seq,
           current_setting('bench.start')::timestamptz + g * interval '259 milliseconds' AS ts,
           md5('d' || g)::uuid::text AS decision_id, 'corr-' || (g / 3) AS correlation_id,
           'tenant-' || (hashint4(g::int) & 2147483647) %% 50 AS tenant_id,
           'cap.bench.' || (g / 10 * 7) %% 200 AS capability_id,
           CASE WHEN (g / 10) %% 10 = 3 THEN 'NO_MATCH' ELSE 'rr_' || (g / 10 * 7) %% 200 END AS rule,
           'wrk.bench.' || (g / 10 * 7) %% 40 AS worker,
           (ARRAY['dev','stage','prod','edge'])[(g / 10) %% 4 + 1] AS env,
           (ARRAY['PUBLIC','INTERNAL','RESTRICTED'])[(g / 10) %% 3 + 1] AS label,
           (ARRAY['P0','P1','P2','P3'])[(g / 7) %% 4 + 1] AS qos,
           (g / 10) %% 10 = 3 AS denied,
           CASE WHEN (g / 10) %% 10 = 3 THEN (ARRAY['DENY_NO_MATCHING_RULE','DENY_MISSING_REQUIRED_CONTROLS',
                'DENY_WORKER_UNAVAILABLE','DENY_POLICY_GATE','DENY_ENV_NOT_ALLOWED'])[(g / 100) %% 5 + 1] END AS code,
           CASE WHEN (g / 10) %% 10 = 3 THEN 'refused by the bench' END AS message
    FROM generate_series(%s::bigint, %s::bigint) g
  ) cols
) rows
$f$, lo, least(lo + 999999, :rows - 1)) AS stmt
FROM generate_series(0, :rows - 1, 1000000) lo
\gexec
VACUUM ANALYZE decisions;
SELECT count(*) AS decisions FROM decisions;
SELECT pg_size_pretty(sum(pg_table_size(inhrelid))) AS heap,
       pg_size_pretty(sum(pg_indexes_size(inhrelid))) AS indexes
FROM pg_inherits WHERE inhparent = 'decisions'::regclass;
