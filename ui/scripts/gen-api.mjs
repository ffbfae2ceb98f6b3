// Generates the UI's view of the hall API from its OpenAPI document, `src/lib/openapi.json` (a copy
// of what `GET /v1/openapi.json` serves; `npm run sync:api` refreshes it from the Rust endpoint
// table, then runs this script as `npm run gen:api`):
// - `src/lib/wire.gen.ts`: every request and response type (openapi-typescript);
// - `src/lib/ops.gen.ts`: every operation by its name (the document's operationId, which is the
//   name in the hall's endpoint table): its HTTP method and path template.
// `src/lib/gen.test.ts` fails while either file differs from what this script would write.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const LIB = new URL('../src/lib/', import.meta.url);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** The operations of an OpenAPI document, sorted by name. */
export function operations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (typeof op.operationId !== 'string') throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      if (!/^[a-z][a-z0-9_]*$/.test(op.operationId)) throw new Error(`operationId ${op.operationId} is not snake_case`);
      if (/['\\\n]/.test(path)) throw new Error(`path ${JSON.stringify(path)} cannot be written as a TS string as is`);
      ops.push({ name: op.operationId, method: method.toUpperCase(), path, summary: op.summary ?? '' });
    }
  }
  ops.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < ops.length; i++) {
    if (ops[i].name === ops[i - 1].name) throw new Error(`two operations are named ${ops[i].name}`);
  }
  return ops;
}

/** The text of `ops.gen.ts` for a document. */
export function renderOps(doc) {
  const lines = [
    '// Generated from openapi.json by scripts/gen-api.mjs (`npm run gen:api`): do not edit.',
    "// Every hall API operation by its name (the operationId, the name in the hall's endpoint table):",
    "// the HTTP transport sends its method and path; the desktop's `hall_call` command takes its name.",
    '',
    'export const OPS = {',
  ];
  for (const op of operations(doc)) {
    if (op.summary) lines.push(`  /** ${op.summary.replaceAll('*/', '* /')} */`);
    lines.push(`  ${op.name}: { method: '${op.method}', path: '${op.path}' },`);
  }
  lines.push('} as const;', '', '/** The name of a hall API operation. */', 'export type OpName = keyof typeof OPS;', '');
  return lines.join('\n');
}

/** The text of `wire.gen.ts` for a document (what the openapi-typescript CLI writes). */
export async function renderWire(doc) {
  return COMMENT_HEADER + astToString(await openapiTS(doc, { silent: true }));
}

async function main() {
  const doc = JSON.parse(readFileSync(new URL('openapi.json', LIB), 'utf8'));
  writeFileSync(new URL('wire.gen.ts', LIB), await renderWire(doc));
  writeFileSync(new URL('ops.gen.ts', LIB), renderOps(doc));
  console.log(`wrote ${fileURLToPath(new URL('wire.gen.ts', LIB))} and ops.gen.ts (${operations(doc).length} operations)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
