// The generated files are what scripts/gen-api.mjs makes of openapi.json, whose freshness against
// the hall's endpoint table is checked by the hall's own tests (crates/hall/tests/openapi.rs). With
// both, a change to the Rust table that is not regenerated here fails a test.

import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { operations, renderOps, renderWire } from '../../scripts/gen-api.mjs';
import { HttpTransport } from './api';
import { OPS, type OpName } from './ops.gen';

const lib = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const doc = JSON.parse(lib('openapi.json')) as unknown;
const STALE = 'is stale: run `npm --prefix ui run gen:api` (or `sync:api` after changing the hall)';

describe('generated from openapi.json', () => {
  it(`ops.gen.ts is current`, () => {
    expect(lib('ops.gen.ts') === renderOps(doc), `ops.gen.ts ${STALE}`).toBe(true);
  });

  it(`wire.gen.ts is current`, async () => {
    expect(lib('wire.gen.ts') === (await renderWire(doc)), `wire.gen.ts ${STALE}`).toBe(true);
  });

  it('lists every operation of the document, by its operationId', () => {
    const fromDoc = operations(doc).map(({ name, method, path }) => [name, method, path]);
    const fromTable = Object.entries(OPS).map(([name, op]) => [name, op.method, op.path]);
    expect(fromTable).toEqual(fromDoc);
    expect(fromDoc.length).toBeGreaterThanOrEqual(23);
  });

  it('sends each operation to its method and path over HTTP', async () => {
    const calls: { url: string; method: string | undefined }[] = [];
    const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), method: init?.method });
      return new Response('{}', { status: 200 });
    });
    const http = new HttpTransport({ baseUrl: '', token: 't' }, {
      fetch: fetch as unknown as typeof globalThis.fetch,
      EventSource: class {} as never,
      setTimeout: () => 0,
      clearTimeout: () => {},
    });
    for (const name of Object.keys(OPS) as OpName[]) {
      const { method, path } = OPS[name];
      const params = Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map(([, p]) => [p!, `${p}-1`]));
      await http.call(name, { params });
      expect(calls.at(-1)).toEqual({ url: path.replace(/\{(\w+)\}/g, '$1-1'), method });
    }
  });
});
