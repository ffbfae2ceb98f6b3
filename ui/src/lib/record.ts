// Client-side checks of a registry record file before it is sent for enrollment, so the user sees
// every problem at once with the field named. The hall validates again (docs/API.md, POST /v1/workers);
// its verdict is the one that counts.

export interface RecordCheck {
  record: Record<string, unknown> | null;
  problems: string[];
}

const isNonBlankString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

export function checkRecordText(text: string): RecordCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { record: null, problems: [`The file is not valid JSON: ${(err as Error).message}`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { record: null, problems: ['A registry record must be a JSON object (SPEC.md §1.7).'] };
  }
  const record = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const id = record.worker_id;
  if (!isNonBlankString(id)) problems.push('worker_id is required (a non-blank string, e.g. org.acme.summarizer.i-1).');
  else {
    if (new TextEncoder().encode(id).length > 256) problems.push('worker_id is longer than 256 bytes.');
    if (/[/\\]/.test(id) || id.startsWith('.')) problems.push('worker_id must not contain / or \\ or start with a dot.');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(id)) problems.push('worker_id contains control characters.');
  }
  if (!isNonBlankString(record.worker_species_id)) problems.push('worker_species_id is required (e.g. wrk.doc.summarizer).');
  const caps = record.capabilities;
  if (!Array.isArray(caps) || caps.length === 0) problems.push('capabilities must be a non-empty list of capability ids.');
  else if (!caps.every(isNonBlankString)) problems.push('every entry of capabilities must be a non-blank string.');
  if ('artifact_hash' in record && record.artifact_hash !== null && typeof record.artifact_hash !== 'string') {
    problems.push('artifact_hash must be a string ("sha256:<hex>") when present.');
  }
  return { record, problems };
}
