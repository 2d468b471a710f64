import { Chalk } from 'chalk';
import type { StatsRates, StatsSnapshot } from './snapshot.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of the last values (scaled to the largest), e.g. `▁▂▅█▇`. */
export function sparkline(values: readonly number[], width = 40): string {
  const tail = values.slice(-width);
  const max = Math.max(0, ...tail);
  if (max === 0) return BARS[0]!.repeat(tail.length);
  return tail
    .map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))])
    .join('');
}

function human(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

function table(map: Record<string, number>): string {
  const entries = Object.entries(map).filter(([, v]) => v > 0);
  return entries.length === 0 ? '—' : entries.map(([k, v]) => `${k || '?'}=${v}`).join('  ');
}

export interface StatsHistory {
  messagesPerSecond: number[];
  connections: number[];
}

/** The live view as lines (pure: the command clears the screen and prints them). */
export function renderStats(
  source: string,
  snapshot: StatsSnapshot,
  rates: StatsRates | undefined,
  history: StatsHistory,
  color: boolean,
  options: { live?: boolean } = {},
): string[] {
  const c = new Chalk({ level: color ? 1 : 0 });
  const two = (n: number) => String(n).padStart(2, '0');
  const at = new Date(snapshot.at);
  // 24-hour, like the chat.
  const clock = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const head = (text: string) => c.bold.cyan(text);
  const r = rates;
  return [
    `${head('securechat stats')}  ${source}  ${clock}`,
    '',
    `${head('connections')}  ${snapshot.connections} open, ${snapshot.usersOnline} users online, ${snapshot.connectionsTotal} since start${r ? `, ${r.connectsPerSecond.toFixed(1)}/s` : ''}`,
    `             ${sparkline(history.connections)}`,
    `${head('messages')}     ${r ? `${r.messagesPerSecond.toFixed(1)}/s` : '…'}  delivered ${snapshot.relaysDelivered}  failed ${table(snapshot.relaysFailed)}`,
    `             ${sparkline(history.messagesPerSecond)}`,
    `${head('traffic')}      in ${human(snapshot.bytesIn)}${r ? ` (${human(r.bytesInPerSecond)}/s)` : ''}  out ${human(snapshot.bytesOut)}${r ? ` (${human(r.bytesOutPerSecond)}/s)` : ''}`,
    `${head('frames in')}    ${table(snapshot.framesIn)}`,
    `${head('rejected')}     ${table(snapshot.framesRejected)}`,
    `${head('tls')}          ${table(snapshot.tlsAccepted)}   failures: ${table(snapshot.tlsFailures)}`,
    `${head('abuse')}        rate-limited ${table(snapshot.rateLimited)}  penalized addresses ${snapshot.penalized}`,
    `${head('security')}     ${table(snapshot.securityEvents)}`,
    ...(snapshot.cluster
      ? [
          `${head('cluster')}      ${snapshot.cluster.nodes} nodes, users here ${snapshot.cluster.users.node ?? 0} / cluster ${snapshot.cluster.users.cluster ?? 0}  relays ${table(snapshot.cluster.relays)}  redis rtt ${(snapshot.cluster.redisRttSeconds * 1000).toFixed(2)} ms, errors ${snapshot.cluster.redisErrors}`,
        ]
      : []),
    `${head('process')}      cpu ${r ? `${r.cpuPercent.toFixed(0)}%` : '…'}  rss ${human(snapshot.residentBytes)}  event-loop lag p99 ${(snapshot.eventLoopLagP99Seconds * 1000).toFixed(1)} ms`,
    ...(options.live === false ? [] : ['', c.gray('q or Ctrl-C to quit')]),
  ];
}
