/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function median(values) {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Counts of messages are summed over the repetitions, never taken as a median: one lost
// message in one run out of three must stay visible.
const SUMMED = new Set([
  'expected',
  'sent',
  'delivered',
  'stranded',
  'lost',
  'unsent',
  'staleWarmup',
  'serverErrors',
  'failures',
  'retries',
]);

/**
 * Combines repetitions: the median of each numeric field, except message counts, which are
 * summed. Non-numeric fields are taken from the first run. Adds `runs`.
 */
export function medianOf(runs) {
  const out = { ...runs[0] };
  for (const key of Object.keys(runs[0])) {
    if (typeof runs[0][key] !== 'number') continue;
    const values = runs.map((r) => r[key]);
    out[key] = SUMMED.has(key) ? values.reduce((a, b) => a + b, 0) : median(values);
  }
  out.runs = runs.length;
  return out;
}
