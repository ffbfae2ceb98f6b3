// Waiting, shared by the browser e2e tests, the MCP tests and the desktop WebDriver tests.

/** Calls `fn` every 100 ms until it returns a truthy value (or `timeoutMs` passes). */
export async function eventually(fn, what, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last?.message ?? last})`);
}

/**
 * The URL a starting `proctor serve` child prints ("listening on http://…"); fails with its stderr
 * (`stderr()`) if it exits first or says nothing for `timeoutMs`.
 */
export function listeningUrl(child, stderr, timeoutMs) {
  return new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`proctor serve did not start in ${timeoutMs / 1000} s:\n${stderr()}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`proctor serve exited with ${code}:\n${stderr()}`));
    });
  });
}
