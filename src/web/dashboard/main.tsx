import { render } from 'preact';
import { parsePrometheusText } from '../../stats/prometheus-text.js';
import { ratesBetween, type StatsSnapshot, snapshotFrom } from '../../stats/snapshot.js';
import { BarChart, formatNumber, LineChart } from './charts.js';

/**
 * The admin dashboard: reads /metrics (same origin) every 2 s and draws what
 * `securechat stats` prints, from the same parser. Read-only: it sends nothing else.
 */
const POLL_MS = 2000;
const POINTS = 150;

interface History {
  connections: number[];
  messagesPerSecond: number[];
  latest?: StatsSnapshot;
  error?: string;
}

const history: History = { connections: [], messagesPerSecond: [] };
const root = document.getElementById('dashboard');

const sorted = (record: Record<string, number>): Array<[string, number]> =>
  Object.entries(record)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);

function push(series: number[], value: number): void {
  series.push(value);
  if (series.length > POINTS) series.shift();
}

function Dashboard({ state }: { state: History }) {
  const s = state.latest;
  return (
    <main>
      <header>
        <h1>securechat server</h1>
        <span class={state.error ? 'status bad' : 'status ok'} data-testid="dash-status">
          {state.error ?? (s ? `updated ${new Date(s.at).toLocaleTimeString()}` : 'loading…')}
        </span>
      </header>
      {s ? (
        <div class="grid">
          <section>
            <h2>
              Connections <strong data-testid="dash-connections">{s.connections}</strong>
            </h2>
            <LineChart values={state.connections} label="open connections over time" />
            <p>
              users online {s.usersOnline} · total connections {formatNumber(s.connectionsTotal)} ·
              penalized addresses {s.penalized}
            </p>
          </section>
          <section>
            <h2>
              Messages/s{' '}
              <strong data-testid="dash-rate">
                {formatNumber(state.messagesPerSecond.at(-1) ?? 0)}
              </strong>
            </h2>
            <LineChart values={state.messagesPerSecond} label="relayed messages per second" />
            <p>relays delivered {formatNumber(s.relaysDelivered)}</p>
          </section>
          <section>
            <h2>Security events by kind</h2>
            <BarChart entries={sorted(s.securityEvents)} label="security events by kind" />
          </section>
          <section>
            <h2>TLS versions</h2>
            <BarChart entries={sorted(s.tlsAccepted)} label="accepted TLS connections by version" />
            <h3>TLS failures</h3>
            <BarChart entries={sorted(s.tlsFailures)} label="TLS failures by reason" />
          </section>
          <section>
            <h2>Rejected frames</h2>
            <BarChart entries={sorted(s.framesRejected)} label="rejected frames by code" />
          </section>
          <section>
            <h2>Process</h2>
            <p>
              resident memory {formatNumber(s.residentBytes / 1048576)} MiB · event-loop lag p99{' '}
              {(s.eventLoopLagP99Seconds * 1000).toFixed(1)} ms
            </p>
          </section>
        </div>
      ) : null}
    </main>
  );
}

function draw(): void {
  if (root) render(<Dashboard state={history} />, root);
}

async function poll(): Promise<void> {
  try {
    const response = await fetch('/metrics', { cache: 'no-store' });
    if (!response.ok) throw new Error(`metrics answered ${response.status}`);
    const snapshot = snapshotFrom(parsePrometheusText(await response.text()), Date.now());
    if (history.latest)
      push(history.messagesPerSecond, ratesBetween(history.latest, snapshot).messagesPerSecond);
    push(history.connections, snapshot.connections);
    history.latest = snapshot;
    delete history.error;
  } catch (error) {
    history.error = `cannot read /metrics: ${(error as Error).message}`;
  }
  draw();
}

draw();
void poll();
setInterval(() => void poll(), POLL_MS);
