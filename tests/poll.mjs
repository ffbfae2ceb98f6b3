// Polling shared by the browser e2e tests and the desktop WebDriver tests.

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
