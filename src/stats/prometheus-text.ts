/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the Prometheus text format (version 0.0.4): comments and blank lines are skipped,
 * malformed lines are ignored rather than fatal (a scrape is advisory).
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    if (match[3]) {
      for (const label of match[3].matchAll(LABEL)) {
        labels[label[1]!] = label[2]!
          .replace(/\\n/g, '\n')
          .replace(/\\"/g, '"')
          .replace(/\\\\/g, '\\');
      }
    }
    const value =
      match[4] === '+Inf'
        ? Number.POSITIVE_INFINITY
        : match[4] === '-Inf'
          ? Number.NEGATIVE_INFINITY
          : Number(match[4]);
    if (Number.isNaN(value) && match[4] !== 'NaN') continue;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` (optionally filtered by labels). */
export function total(
  samples: readonly Sample[],
  name: string,
  filter: Record<string, string> = {},
): number {
  let sum = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(filter).every(([k, v]) => sample.labels[k] === v)) sum += sample.value;
  }
  return sum;
}

/** Values of `name` split by one label. */
export function byLabel(
  samples: readonly Sample[],
  name: string,
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + sample.value;
  }
  return out;
}
