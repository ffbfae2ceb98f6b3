// The README's and docs/ui.md's picture of the Decisions explorer, from a real `proctor serve` with a
// realistic minute of traffic: five tenants, three capabilities with workers and one without a rule
// (denied), a burst of denials in the middle. Writes docs/screenshots/decisions.png (1280×800).
// Usage: node benches/ui/screenshots.mjs   (needs target/debug/proctor and ui/dist, as the e2e tests)
import { join } from 'node:path';
import { Hall, ROOT, browser, signIn, worker } from '../../tests/e2e/harness.mjs';

const hall = await Hall.start();
const b = await browser({ viewport: { width: 1280, height: 800 } });
const { page } = b;
try {
  const workers = [
    ['org.acme.summarizer.i-1', 'wrk.doc.summarizer', ['cap.doc.summarize']],
    ['org.acme.summarizer.i-2', 'wrk.doc.summarizer', ['cap.doc.summarize']],
    ['org.acme.ocr.i-1', 'wrk.doc.ocr', ['cap.doc.ocr']],
    ['org.acme.generic.i-1', 'wrk.generic', ['cap.doc.translate']],
  ];
  for (const [id, species, caps] of workers) {
    await hall.enroll(worker(id, species, caps));
    await hall.heartbeat(id, { status: 'ok', latency_ms: 12 });
  }
  const tenants = ['acme', 'globex', 'initech', 'hooli', 'umbrella'];
  const caps = ['cap.doc.summarize', 'cap.doc.summarize', 'cap.doc.ocr', 'cap.doc.translate'];
  const labels = ['PUBLIC', 'PUBLIC', 'INTERNAL', 'RESTRICTED'];
  // 40 waves a second apart; waves 18-24 carry a burst of requests no rule routes (prod, cap.none).
  for (let wave = 0; wave < 40; wave++) {
    const burst = wave >= 18 && wave <= 24;
    const n = 20 + ((wave * 7) % 13) + (burst ? 25 : 0);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const k = wave * 101 + i;
        const denied = burst ? i % 2 === 0 : k % 17 === 0;
        return hall.route({
          tenant_id: tenants[k % tenants.length],
          capability_id: denied ? 'cap.none' : caps[k % caps.length],
          env: denied ? 'prod' : 'dev',
          data_label: labels[k % labels.length],
          correlation_id: `req-${(k * 2654435761) % 0xffffffff}`.slice(0, 14),
        });
      }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
  }
  await signIn(page, hall);
  await page.goto(`${hall.url}/#/decisions`);
  await page.getByTestId('histogram').waitFor();
  await page.locator('[data-facet="tenant_id"]').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(ROOT, 'docs/screenshots/decisions.png') });
  console.log('wrote docs/screenshots/decisions.png');
} finally {
  await b.close();
  await hall.stop();
}
