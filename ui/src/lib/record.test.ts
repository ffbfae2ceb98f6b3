import { describe, expect, it } from 'vitest';
import { checkRecordText, conformanceLevel } from './record';

const basic = { worker_id: 'org.acme.sum.i-1', worker_species_id: 'wrk.doc.summarizer', capabilities: ['cap.doc.summarize'], risk_tier: 'low' };
const standard = {
  ...basic,
  required_controls: ['ctrl.obs.audit-log-append-only'],
  currently_implements: ['ctrl.pol.default-deny'],
  allowed_environments: ['dev'],
};
const full = {
  ...standard,
  blast_radius: { data: 1, network: 0, financial: 0, time: 1, reversibility: 'reversible' },
  privilege_envelope: { network_egress: 'none' },
  idempotency: 'full',
  artifact_hash: 'sha256:abc',
};

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

describe('conformance level (SPEC.md §1.13)', () => {
  it('scores each level, each requiring the previous', () => {
    expect(conformanceLevel({})).toBe('none');
    expect(conformanceLevel(basic)).toBe('WCP-Basic');
    expect(conformanceLevel(standard)).toBe('WCP-Standard');
    expect(conformanceLevel(full)).toBe('WCP-Full');
    const { risk_tier: _drop, ...noTier } = full;
    expect(conformanceLevel(noTier)).toBe('none');
  });

  it('normalizes control ids: hyphens and dots count as underscores', () => {
    expect(conformanceLevel({ ...standard, required_controls: ['ctrl.audit_log'], currently_implements: ['ctrl.allow-default'] })).toBe('WCP-Basic');
    expect(conformanceLevel({ ...standard, required_controls: ['ctrl.audit_log'], currently_implements: ['CTRL.Deny.Default'] })).toBe('WCP-Standard');
  });

  it('accepts an evidence-receipt control instead of an artifact hash for Full', () => {
    const { artifact_hash: _h, ...noHash } = full;
    expect(conformanceLevel(noHash)).toBe('WCP-Standard');
    expect(conformanceLevel({ ...noHash, currently_implements: ['ctrl.pol.default-deny', 'ctrl.evidence-receipt'] })).toBe('WCP-Full');
  });
});
