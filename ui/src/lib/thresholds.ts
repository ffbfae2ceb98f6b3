// The Settings screen's thresholds form: which field a problem belongs to, so it is shown at that
// field. Blank or non-numeric fields are caught here; the hall checks the rest (its message names
// the fields, e.g. "health: need 0 < stale_after_s < offline_after_s") and its answer wins.

import type { Thresholds } from './types';

export const THRESHOLD_FIELDS = [
  ['health', 'stale_after_s'],
  ['health', 'offline_after_s'],
  ['health', 'degraded_latency_ms'],
  ['alerts', 'deny_rate_threshold'],
  ['alerts', 'deny_rate_window_s'],
  ['alerts', 'deny_rate_min_decisions'],
] as const;
export type ThresholdField = (typeof THRESHOLD_FIELDS)[number][1];

/** Problems the form can see before sending: a field left blank or not a number. */
export function checkThresholds(t: Thresholds): Partial<Record<ThresholdField, string>> {
  const problems: Partial<Record<ThresholdField, string>> = {};
  for (const [group, key] of THRESHOLD_FIELDS) {
    const value = (t[group] as Record<string, unknown>)[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) problems[key] = 'A number is required.';
  }
  return problems;
}

/** The fields a hall message names (none: the message belongs to the whole form). */
export function fieldsNamedIn(message: string): ThresholdField[] {
  return THRESHOLD_FIELDS.map(([, key]) => key).filter((key) => new RegExp(`\\b${key}\\b`).test(message));
}
