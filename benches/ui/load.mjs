// A paced load generator: POSTs RouteInputs to a hall at a fixed rate (requests are issued in small
// batches every 10 ms; it reports the rate it actually achieved, since a loaded machine can fall short).

export function startLoad({ url, token, perSecond, tenant = 'bench' }) {
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let inflight = 0;
  const started = Date.now();
  const tick = 10;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond) - sent;
    for (let i = 0; i < due; i++) {
      if (inflight > 2000) break; // never queue without bound if the hall falls behind
      sent++;
      inflight++;
      const n = sent;
      fetch(`${url}/v1/route`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          capability_id: n % 10 === 0 ? 'cap.none' : 'cap.doc.summarize', env: 'dev', data_label: 'PUBLIC', tenant_risk: 'low',
          qos_class: 'P2', tenant_id: `${tenant}.${n % 7}`, correlation_id: `bench-${n}`,
        }),
      })
        .then((r) => (r.ok ? ok++ : failed++), () => failed++)
        .finally(() => inflight--);
    }
  }, tick);
  return {
    /** Stops issuing requests and resolves once every request in flight has been answered. */
    async stop() {
      clearInterval(timer);
      while (inflight > 0) await new Promise((r) => setTimeout(r, 10));
      const seconds = (Date.now() - started) / 1000;
      return { sent, ok, failed, seconds, achievedPerSecond: Math.round(ok / seconds) };
    },
  };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
