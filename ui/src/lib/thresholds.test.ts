import { describe, expect, it } from 'vitest';
import { checkThresholds, fieldsNamedIn } from './thresholds';
import type { Thresholds } from './types';

const valid: Thresholds = {
  health: { stale_after_s: 30, offline_after_s: 120, degraded_latency_ms: 1000 },
  alerts: { deny_rate_threshold: 0.5, deny_rate_window_s: 60, deny_rate_min_decisions: 20 },
};

describe('thresholds form', () => {
  it('flags blank and non-numeric fields before sending', () => {
    expect(checkThresholds(valid)).toEqual({});
    const blank = { ...valid, health: { ...valid.health, offline_after_s: null as unknown as number } };
    expect(checkThresholds(blank)).toEqual({ offline_after_s: 'A number is required.' });
  });

  it("puts the hall's message at the fields it names", () => {
    expect(fieldsNamedIn('health: need 0 < stale_after_s < offline_after_s')).toEqual(['stale_after_s', 'offline_after_s']);
    expect(fieldsNamedIn('alerts: deny_rate_window_s must be in 1..=3600')).toEqual(['deny_rate_window_s']);
    expect(fieldsNamedIn('something else')).toEqual([]);
  });
});
