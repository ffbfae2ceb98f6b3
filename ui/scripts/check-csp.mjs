// Fails the build if the emitted HTML contains anything a strict CSP (no 'unsafe-inline') would block:
// inline <script> bodies, <style> elements, style="" attributes or on* event handler attributes.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'dist';
const problems = [];
for (const name of readdirSync(dir, { recursive: true })) {
  if (!String(name).endsWith('.html')) continue;
  const html = readFileSync(join(dir, String(name)), 'utf8');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (m[2].trim() !== '') problems.push(`${name}: inline <script> body`);
    if (!/\bsrc=/.test(m[1])) problems.push(`${name}: <script> without src`);
  }
  if (/<style\b/i.test(html)) problems.push(`${name}: <style> element`);
  if (/\sstyle\s*=/i.test(html)) problems.push(`${name}: style="" attribute`);
  if (/\son[a-z]+\s*=/i.test(html)) problems.push(`${name}: inline event handler attribute`);
}
if (problems.length > 0) {
  console.error(`check-csp: the build would violate the CSP:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-csp: ${dir} has no inline scripts or styles`);
