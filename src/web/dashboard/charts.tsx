/** Small SVG charts drawn from numbers (no HTML strings; the CSP allows no inline code). */

const W = 320;
const H = 90;

export function LineChart({ values, label }: { values: readonly number[]; label: string }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? W / (values.length - 1) : W;
  const points = values.map(
    (v, i) => `${(i * step).toFixed(1)},${(H - (v / max) * (H - 4) - 2).toFixed(1)}`,
  );
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={label}
      preserveAspectRatio="none"
    >
      <line x1="0" y1={H - 1} x2={W} y2={H - 1} class="axis" />
      {values.length > 1 ? <polyline points={points.join(' ')} class="series" /> : null}
      <text x="4" y="12" class="scale">
        {formatNumber(max)}
      </text>
    </svg>
  );
}

export function BarChart({
  entries,
  label,
}: {
  entries: ReadonlyArray<[string, number]>;
  label: string;
}) {
  if (entries.length === 0) return <p class="none">none yet</p>;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const row = 20;
  return (
    <svg
      class="bars"
      viewBox={`0 0 ${W} ${entries.length * row}`}
      role="img"
      aria-label={label}
      height={entries.length * row}
    >
      {entries.map(([name, value], i) => (
        <g key={name}>
          <rect
            x="150"
            y={i * row + 3}
            width={Math.max(1, (value / max) * (W - 200))}
            height={row - 6}
            class="bar"
          />
          <text x="145" y={i * row + 14} class="bar-label" text-anchor="end">
            {name.length > 24 ? `${name.slice(0, 23)}…` : name}
          </text>
          <text x={155 + (value / max) * (W - 200)} y={i * row + 14} class="bar-value">
            {formatNumber(value)}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function formatNumber(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
