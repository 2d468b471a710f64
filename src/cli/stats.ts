import type { Command } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { parseDuration } from '../server/config.js';
import { parsePrometheusText } from '../stats/prometheus-text.js';
import { ratesBetween, type StatsSnapshot, snapshotFrom } from '../stats/snapshot.js';
import { renderStats, type StatsHistory } from '../stats/view.js';
import { addOptions } from './options.js';

const HISTORY = 60;

async function scrape(url: string): Promise<StatsSnapshot> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (cause) {
    throw new CliError(`cannot reach ${url}: ${(cause as Error).message}`, {
      hint: 'start the server with --metrics (default 127.0.0.1:9464)',
    });
  }
  if (!response.ok) throw new CliError(`${url} answered HTTP ${response.status}`);
  return snapshotFrom(parsePrometheusText(await response.text()), Date.now());
}

/** `securechat stats`: a live terminal view of a server's metrics, or one JSON snapshot. */
export function addStatsCommand(program: Command): void {
  const command = program
    .command('stats')
    .description('live view of a server’s metrics (needs `serve --metrics`)');
  addOptions(command, [
    {
      flags: '--metrics <url>',
      help: 'metrics URL',
      env: 'SECURECHAT_METRICS_URL',
      default: 'http://127.0.0.1:9464/metrics',
    },
    { flags: '--interval <duration>', help: 'refresh interval', default: '1s' },
    { flags: '--once', help: 'print one snapshot and exit' },
    { flags: '--json', help: 'JSON instead of the terminal view' },
    { flags: '--no-color', help: 'no colours' },
  ]).action(
    async (flags: {
      metrics: string;
      interval: string;
      once?: boolean;
      json?: boolean;
      color?: boolean;
    }) => {
      const interval = parseDuration(flags.interval, '--interval');
      if (interval < 100)
        throw new CliError('--interval must be at least 100ms', { exitCode: ExitCode.usage });
      if (flags.once) {
        const first = await scrape(flags.metrics);
        if (flags.json) {
          // A second scrape one interval later gives rates too.
          await new Promise((resolve) => setTimeout(resolve, Math.min(interval, 2000)));
          const second = await scrape(flags.metrics);
          process.stdout.write(
            `${JSON.stringify({ ...second, rates: ratesBetween(first, second) })}\n`,
          );
        } else {
          process.stdout.write(
            `${renderStats(flags.metrics, first, undefined, { messagesPerSecond: [], connections: [first.connections] }, false, { live: false }).join('\n')}\n`,
          );
        }
        return;
      }
      const color = flags.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const history: StatsHistory = { messagesPerSecond: [], connections: [] };
      let previous: StatsSnapshot | undefined;
      let stop = false;
      let wake: () => void = () => {};
      const quit = () => {
        stop = true;
        wake();
      };
      process.once('SIGINT', quit);
      // q quits too (raw keys on a terminal; Ctrl-C arrives as a key there).
      const stdin = process.stdin;
      const keys = (key: Buffer) => {
        const text = key.toString('utf8');
        if (text === 'q' || text === 'Q' || text === '\x03') quit();
      };
      if (stdin.isTTY && !flags.json) {
        stdin.setRawMode(true);
        stdin.on('data', keys);
      }
      while (!stop) {
        const snapshot = await scrape(flags.metrics);
        const rates = previous ? ratesBetween(previous, snapshot) : undefined;
        if (rates) history.messagesPerSecond.push(rates.messagesPerSecond);
        history.connections.push(snapshot.connections);
        for (const series of [history.messagesPerSecond, history.connections])
          if (series.length > HISTORY) series.shift();
        if (flags.json)
          process.stdout.write(`${JSON.stringify({ ...snapshot, ...(rates ? { rates } : {}) })}\n`);
        else
          process.stdout.write(
            `\x1b[H\x1b[2J${renderStats(flags.metrics, snapshot, rates, history, color).join('\n')}\n`,
          );
        previous = snapshot;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, interval);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (stdin.isTTY && !flags.json) {
        stdin.off('data', keys);
        stdin.setRawMode(false);
        stdin.pause();
      }
      process.off('SIGINT', quit);
    },
  );
}
