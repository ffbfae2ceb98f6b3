import { describe, expect, it } from 'vitest';
import { checkRecordText } from './record';

const basic = { worker_id: 'org.acme.sum.i-1', worker_species_id: 'wrk.doc.summarizer', capabilities: ['cap.doc.summarize'], risk_tier: 'low' };

describe('registry record checks before enrollment', () => {
  it('accepts a valid record', () => {
    expect(checkRecordText(JSON.stringify(basic))).toEqual({ record: basic, problems: [] });
  });

  it('names every problem at once', () => {
    const { problems } = checkRecordText(JSON.stringify({ worker_id: ' ', capabilities: [] }));
    expect(problems).toHaveLength(3);
    expect(problems.join(' ')).toMatch(/worker_id.*worker_species_id.*capabilities/s);
  });

  it('refuses non-JSON and non-objects with a clear message', () => {
    expect(checkRecordText('{"worker_id": ').problems[0]).toMatch(/not valid JSON/);
    expect(checkRecordText('[1,2]').problems[0]).toMatch(/JSON object/);
  });

  it('refuses ids that could escape the registry dir', () => {
    expect(checkRecordText(JSON.stringify({ ...basic, worker_id: '../evil' })).problems[0]).toMatch(/must not contain/);
    expect(checkRecordText(JSON.stringify({ ...basic, worker_id: 'a\u0000b' })).problems[0]).toMatch(/control characters/);
    expect(checkRecordText(JSON.stringify({ ...basic, worker_id: 'x'.repeat(257) })).problems[0]).toMatch(/256 bytes/);
    expect(checkRecordText(JSON.stringify({ ...basic, capabilities: ['ok', 3] })).problems[0]).toMatch(/non-blank string/);
  });
});
