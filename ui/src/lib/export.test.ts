import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvField, csvHeader, csvRow, jsonlLine, renderExport } from './export';
import { record } from '../test/fixtures';

describe('export', () => {
  it('quotes CSV fields per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField(null)).toBe('');
    expect(csvField(false)).toBe('false');
  });

  it('defuses spreadsheet formulas in ids', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@cmd')).toBe("'@cmd");
  });

  it('writes one row per decision with the deny code split out', () => {
    const r = record(7, { denied: true, deny_reason_if_denied: { code: 'DENY_NO_MATCHING_RULE', message: 'no rule matched' }, selected_worker_species_id: null, artifact_hash: null });
    const cells = csvRow(r).split(',');
    expect(cells).toHaveLength(CSV_COLUMNS.length);
    expect(cells[CSV_COLUMNS.indexOf('deny_code')]).toBe('DENY_NO_MATCHING_RULE');
    expect(cells[CSV_COLUMNS.indexOf('seq')]).toBe('7');
    expect(csvHeader().split(',')).toEqual([...CSV_COLUMNS]);
  });

  it('writes JSONL losslessly', () => {
    const r = record(1, { tenant_id: '<script>alert(1)</script>' });
    expect(JSON.parse(jsonlLine(r))).toEqual(r);
  });

  it('pages through every record with the cursor and reports progress', async () => {
    const pages = { '': { decisions: [record(3), record(2)], next_cursor: 'c1' }, c1: { decisions: [record(1)], next_cursor: null } };
    const seen: (string | null)[] = [];
    const progress: number[] = [];
    const text = await renderExport(async (c) => (seen.push(c), pages[(c ?? '') as '' | 'c1']), 'jsonl', (n) => progress.push(n));
    expect(seen).toEqual([null, 'c1']);
    expect(progress).toEqual([2, 3]);
    expect(text.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([3, 2, 1]);
    const csv = await renderExport(async (c) => pages[(c ?? '') as '' | 'c1'], 'csv');
    expect(csv.trim().split('\n')).toHaveLength(4);
  });
});
