import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { isDashboardPath, serveDashboard } from './admin-dashboard.js';
import type { LabeledCounter, ServerStats } from './stats.js';

export interface MetricsSources {
  stats: ServerStats;
  connectionsOpen(): number;
  usersOnline(): number;
  penalizedAddresses(): number;
  /** Bytes of stored (offline) messages. */
  storedBytes(): number | Promise<number>;
}

/** A counter whose value is read from the stats at scrape time. */
export function counterFrom(
  registry: Registry,
  name: string,
  help: string,
  read: () => number,
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function labeledCounterFrom(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => LabeledCounter,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, count] of read().values) this.inc({ [label]: value }, count);
    },
  });
}

export function gaugeFrom(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | Promise<number>,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}

/** The Prometheus registry of one server: its counters plus process CPU, memory, event-loop lag. */
export function createMetricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  const s = sources.stats;
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const gauges: Array<[string, string, () => number | Promise<number>]> = [
    ['securechat_connections_current', 'Open client connections', sources.connectionsOpen],
    ['securechat_users_online', 'Users with an accepted hello', sources.usersOnline],
    [
      'securechat_penalized_addresses',
      'Addresses refused for repeated abuse',
      sources.penalizedAddresses,
    ],
    [
      'securechat_mailbox_stored_bytes',
      'Bytes of messages stored for offline users',
      sources.storedBytes,
    ],
  ];
  const counters: Array<[string, string, () => number]> = [
    [
      'securechat_connections_total',
      'Connections that completed the TLS handshake',
      () => s.connectionsTotal,
    ],
    ['securechat_bytes_in_total', 'Bytes received from clients (TLS payload)', () => s.bytesIn],
    ['securechat_bytes_out_total', 'Bytes queued to clients (TLS payload)', () => s.bytesOut],
    ['securechat_relays_delivered_total', 'Relays handed to the recipient', () => s.relayDelivered],
    [
      'securechat_relays_stored_total',
      'Relays stored for an offline recipient',
      () => s.relayStored,
    ],
    [
      'securechat_mailbox_delivered_total',
      'Stored relays delivered after reconnect',
      () => s.mailboxDelivered,
    ],
    ['securechat_relay_payload_bytes_total', 'Base64 ciphertext bytes relayed', () => s.relayBytes],
    ['securechat_room_messages_total', 'Room messages accepted for fan-out', () => s.roomMessages],
    ['securechat_mailbox_pages_total', 'Pages of stored messages sent', () => s.mailboxPages],
    [
      'securechat_bytes_after_refusal_total',
      'Bytes read from connections after a fatal refusal, before they closed',
      () => s.bytesAfterRefusal,
    ],
    [
      'securechat_room_deliveries_total',
      'Room message copies handed to members',
      () => s.roomDeliveries,
    ],
  ];
  const labeled: Array<[string, string, string, () => LabeledCounter]> = [
    [
      'securechat_connections_refused_total',
      'Connections refused by caps or the penalty box',
      'reason',
      () => s.connectionsRefused,
    ],
    [
      'securechat_connections_closed_total',
      'Sessions closed, by reason',
      'reason',
      () => s.connectionsClosed,
    ],
    [
      'securechat_hello_accepted_total',
      'Accepted hellos by protocol version',
      'version',
      () => s.helloAccepted,
    ],
    ['securechat_hello_refused_total', 'Refused hellos by reason', 'reason', () => s.helloRefused],
    ['securechat_frames_in_total', 'Valid frames received, by type', 'type', () => s.framesIn],
    ['securechat_frames_out_total', 'Frames sent, by type', 'type', () => s.framesOut],
    [
      'securechat_frames_rejected_total',
      'Frames rejected, by error code',
      'code',
      () => s.frameRejected,
    ],
    [
      'securechat_relays_failed_total',
      'Relays not delivered, by reason',
      'reason',
      () => s.relayFailed,
    ],
    [
      'securechat_tls_failures_total',
      'Connections dropped before TLS was established, by reason',
      'reason',
      () => s.tlsRejected,
    ],
    [
      'securechat_rate_limited_total',
      'Frames refused by the rate limit (limited), abusive disconnects, bundle limits',
      'verdict',
      () => s.rateLimited,
    ],
    [
      'securechat_security_events_total',
      'Security events by kind',
      'event',
      () => s.securityEvents,
    ],
    [
      'securechat_copies_dropped_total',
      'Peer traffic not queued for a client that was not reading, by frame kind',
      'kind',
      () => s.copiesDropped,
    ],
    [
      'securechat_internal_errors_total',
      'Handler and process errors answered with E_INTERNAL or logged, by where',
      'where',
      () => s.internalErrors,
    ],
    [
      'securechat_quota_refused_total',
      'Names, rooms, stored messages and password checks refused by a quota',
      'quota',
      () => s.quotaRefused,
    ],
  ];
  for (const [name, help, read] of gauges) gaugeFrom(registry, name, help, read);
  for (const [name, help, read] of counters) counterFrom(registry, name, help, read);
  for (const [name, help, label, read] of labeled)
    labeledCounterFrom(registry, name, help, label, read);
  new Counter({
    name: 'securechat_tls_accepted_total',
    help: 'Established TLS sessions by protocol version and cipher',
    labelNames: ['version', 'cipher'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, count] of s.tlsAccepted.values) {
        const [version = '?', cipher = '?'] = key.split('|');
        this.inc({ version, cipher }, count);
      }
    },
  });
  return registry;
}

/** One connected user, as `GET /who` lists them. */
export interface ConnectedUser {
  name: string;
  address: string;
  /** Protocol version of the hello, and its capabilities (what the client is). */
  version: number;
  caps: string[];
  /** Milliseconds since the epoch. */
  connectedSince: number;
}

export interface AdminEndpoints {
  /** Who is connected (GET /who). */
  who?: () => ConnectedUser[];
  /** Bearer token that opens the endpoints other than /metrics to non-loopback callers. */
  token?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Endpoints other than /metrics reveal users' addresses: only loopback callers, or a
 * caller presenting the admin token, get them.
 */
export function adminAllowed(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  token: string | undefined,
): boolean {
  if (remoteAddress !== undefined && LOOPBACK.has(remoteAddress)) return true;
  if (!token || !authorization) return false;
  const given = Buffer.from(authorization);
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The opt-in admin listener: GET /metrics in the Prometheus text format, GET /who, and the
 * read-only HTML dashboard at GET / (admin-dashboard.ts).
 */
export function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
  endpoints: AdminEndpoints = {},
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/who' && endpoints.who) {
      if (
        !adminAllowed(request.socket.remoteAddress, request.headers.authorization, endpoints.token)
      ) {
        response
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('forbidden: /who answers loopback callers, or with the admin token\n');
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`${JSON.stringify({ users: endpoints.who() })}\n`);
      return;
    }
    if (request.method === 'GET' && isDashboardPath(request.url ?? '')) {
      if (
        !adminAllowed(request.socket.remoteAddress, request.headers.authorization, endpoints.token)
      ) {
        response
          .writeHead(403, { 'content-type': 'text/plain' })
          .end('forbidden: the dashboard answers loopback callers, or with the admin token\n');
        return;
      }
      serveDashboard(request, response);
      return;
    }
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
