// Types of gen-api.mjs, for the test that checks the generated files are current (gen.test.ts).

export interface Operation {
  name: string;
  method: string;
  path: string;
  summary: string;
}

export function operations(doc: unknown): Operation[];
export function renderOps(doc: unknown): string;
export function renderWire(doc: unknown): Promise<string>;
