import { byLabel, type Sample, total } from './prometheus-text.js';

/** What `securechat stats` shows, from one scrape. */
export interface StatsSnapshot {
  at: number;
  connections: number;
  usersOnline: number;
  connectionsTotal: number;
  relaysDelivered: number;
  relaysFailed: Record<string, number>;
  framesIn: Record<string, number>;
  framesRejected: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  tlsFailures: Record<string, number>;
  tlsAccepted: Record<string, number>;
  rateLimited: Record<string, number>;
  securityEvents: Record<string, number>;
  penalized: number;
  cpuSeconds: number;
  residentBytes: number;
  eventLoopLagP99Seconds: number;
  /** Cluster figures (`serve --redis`); undefined for a single process. */
  cluster?: {
    nodes: number;
    users: Record<string, number>;
    relays: Record<string, number>;
    redisRttSeconds: number;
    redisErrors: number;
  };
}

export function snapshotFrom(samples: readonly Sample[], at: number): StatsSnapshot {
  return {
    at,
    connections: total(samples, 'securechat_connections_current'),
    usersOnline: total(samples, 'securechat_users_online'),
    connectionsTotal: total(samples, 'securechat_connections_total'),
    relaysDelivered: total(samples, 'securechat_relays_delivered_total'),
    relaysFailed: byLabel(samples, 'securechat_relays_failed_total', 'reason'),
    framesIn: byLabel(samples, 'securechat_frames_in_total', 'type'),
    framesRejected: byLabel(samples, 'securechat_frames_rejected_total', 'code'),
    bytesIn: total(samples, 'securechat_bytes_in_total'),
    bytesOut: total(samples, 'securechat_bytes_out_total'),
    tlsFailures: byLabel(samples, 'securechat_tls_failures_total', 'reason'),
    tlsAccepted: byLabel(samples, 'securechat_tls_accepted_total', 'version'),
    rateLimited: byLabel(samples, 'securechat_rate_limited_total', 'verdict'),
    securityEvents: byLabel(samples, 'securechat_security_events_total', 'event'),
    penalized: total(samples, 'securechat_penalized_addresses'),
    cpuSeconds: total(samples, 'process_cpu_seconds_total'),
    residentBytes: total(samples, 'process_resident_memory_bytes'),
    eventLoopLagP99Seconds: total(samples, 'nodejs_eventloop_lag_p99_seconds'),
    ...(samples.some((s) => s.name === 'securechat_cluster_nodes')
      ? {
          cluster: {
            nodes: total(samples, 'securechat_cluster_nodes'),
            users: byLabel(samples, 'securechat_cluster_users', 'scope'),
            relays: byLabel(samples, 'securechat_cluster_relays_total', 'direction'),
            redisRttSeconds: total(samples, 'securechat_redis_rtt_seconds'),
            redisErrors: total(samples, 'securechat_redis_errors_total'),
          },
        }
      : {}),
  };
}

/** Per-second rates between two snapshots. */
export interface StatsRates {
  messagesPerSecond: number;
  bytesInPerSecond: number;
  bytesOutPerSecond: number;
  connectsPerSecond: number;
  cpuPercent: number;
}

export function ratesBetween(previous: StatsSnapshot, current: StatsSnapshot): StatsRates {
  const seconds = Math.max(0.001, (current.at - previous.at) / 1000);
  const rate = (a: number, b: number) => Math.max(0, (b - a) / seconds);
  return {
    messagesPerSecond: rate(previous.relaysDelivered, current.relaysDelivered),
    bytesInPerSecond: rate(previous.bytesIn, current.bytesIn),
    bytesOutPerSecond: rate(previous.bytesOut, current.bytesOut),
    connectsPerSecond: rate(previous.connectionsTotal, current.connectionsTotal),
    cpuPercent: rate(previous.cpuSeconds, current.cpuSeconds) * 100,
  };
}
