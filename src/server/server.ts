import type { Server as HttpServer } from 'node:http';
import { Capability } from '../protocol/index.js';
import { certificatePin, loadOrCreateCertificate } from './certs.js';
import { type Clock, clockWith, systemClock } from './clock.js';
// (loaded only with --redis: one process needs neither it nor ioredis)
import type { ClusterNode } from './cluster/cluster-node.js';
import { composeServer } from './compose.js';
import type { ServerConfig } from './config.js';
import { parseListenAddress } from './config.js';
import { ConnectionEvents } from './connection-events.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';
import { addressKey } from './limits/address-key.js';
import type { Logger } from './logger.js';
import type { PresenceBroadcaster } from './presence.js';
import type { RoomPasswordHasher } from './rooms/password-gate.js';
import { PasswordHasher } from './rooms/password-hasher.js';
import type { Session } from './session.js';
import { attachSession, socketTransport } from './socket-transport.js';
import type { ServerStats } from './stats.js';
import { type ServerStore, SqliteStore } from './store/index.js';
import { normalizeAddress, TlsListener } from './tls-listener.js';

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `sha256:<hex>` of the certificate, for client pins. */
  readonly pin: string;
  /** True when the certificate was generated at this start. */
  readonly generatedCertificate: boolean;
  readonly directory: PeerDirectory<Session>;
  readonly stats: ServerStats;
  /** Address of the Prometheus listener, when enabled. */
  readonly metricsAddress: { host: string; port: number } | undefined;
  /** This node of a cluster (`--redis`), or undefined for one process. */
  readonly cluster: ClusterNode | undefined;
  /** Runs the periodic housekeeping now (idle sessions, expired messages, names, rooms); tests move the clock and call it. */
  sweep(): Promise<void>;
  /** Stops accepting, tells every client, closes every connection. */
  close(): Promise<void>;
}

/**
 * What tests (and embedders) may inject instead of the defaults: a clock (or just its
 * `now`), a store, a password hasher. Production uses the system clock, SQLite at
 * `config.dataPath` and the argon2id worker.
 */
export interface ServerDeps {
  now?: () => number;
  clock?: Clock;
  store?: ServerStore;
  hasher?: RoomPasswordHasher;
  /** Aborts a start still waiting for Redis (the daemon was asked to stop). */
  signal?: AbortSignal;
}

/**
 * Starts the relay daemon: loads or creates the certificate, composes the server
 * (compose.ts), and adapts the TLS listener's sockets to sessions. Also schedules the
 * housekeeping and serves the metrics.
 */
export async function startServer(
  config: ServerConfig,
  logger: Logger,
  deps: ServerDeps = {},
): Promise<RunningServer> {
  const clock = deps.clock ?? (deps.now ? clockWith(deps.now) : systemClock);
  const certificate = await loadOrCreateCertificate({
    certPath: config.certPath,
    keyPath: config.keyPath,
  });
  const pin = certificatePin(certificate.certPem);
  if (certificate.generated) {
    logger.info(
      { event: 'certificate.generated', cert: config.certPath, keyFile: config.keyPath, pin },
      'generated a self-signed certificate',
    );
  }

  const cluster = config.redis
    ? await joinCluster(config, config.redis, logger, pin, deps.signal)
    : undefined;
  const store = deps.store ?? cluster?.store ?? new SqliteStore(config.dataPath);
  const hasher = deps.hasher ?? new PasswordHasher();
  const core = await composeServer(config, logger, {
    store,
    hasher,
    clock,
    ...(cluster ? { cluster } : {}),
  });
  const { stats, directory } = core.context;
  const sharedAddresses = new Set(config.sharedAddresses.map((a) => normalizeAddress(a)));
  const events = new ConnectionEvents(logger, stats, clock, sharedAddresses);

  const transportClose = { graceMs: config.closeGraceMs, clock };
  const listener = new TlsListener({
    certPem: certificate.certPem,
    keyPem: certificate.keyPem,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limiter: core.limiter,
    ...(cluster ? { gate: cluster.connections } : {}),
    clock,
    trustedProxies: new Set(config.trustedProxies.map((address) => normalizeAddress(address))),
    plaintextReply: config.plaintextReply,
    onSecure(socket, remote, raw) {
      const shared = events.secured(socket, remote);
      // TCP keepalive is set per session after its hello (v1 only: Session.admit), not here.
      const transport = socketTransport(
        socket,
        raw,
        remote,
        shared ? undefined : addressKey(remote.address),
        transportClose,
      );
      const session = core.openSession(transport);
      attachSession(socket, session, () => core.closed(session));
      socket.on('error', destroyEmitter);
    },
    onRejected: (reason, remote, detail) => events.rejected(reason, remote, detail),
    onRefused: (reason, remote) => events.refused(reason, remote),
  });

  const { maintenance } = core;
  const guarded = (task: () => void | Promise<void>, what: string) => () => {
    const fail = (error: unknown) => {
      stats.internalErrors.inc(what);
      logger.error({ event: 'internal_error', where: what, err: error }, 'housekeeping failed');
    };
    try {
      task()?.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
  const idleSweep =
    maintenance.idleIntervalMs === undefined
      ? undefined
      : clock.setInterval(guarded(maintenance.sweepIdle, 'idle_sweep'), maintenance.idleIntervalMs);
  const storeSweep = clock.setInterval(guarded(maintenance.sweepStore, 'store_sweep'), 3_600_000);

  let metricsServer: HttpServer | undefined;
  let metricsAddress: { host: string; port: number } | undefined;
  try {
    const address = await listener.listen(config.port, config.host);
    await cluster?.start(
      {
        // The directory also lists users of other nodes (cluster/remote-member.ts).
        directory: directory as unknown as PeerDirectory<DirectoryMember>,
        presence: core.context.presence as unknown as PresenceBroadcaster<DirectoryMember>,
        router: core.context.router,
        rooms: core.context.rooms.busHandler,
        penalize: (key, until) => core.limiter.penalize(key, until),
        connectionCounts: () => core.limiter.counts(),
      },
      { host: address.address, port: address.port, pin },
    );
    if (config.metrics) {
      const { host, port } = parseListenAddress(config.metrics, '--metrics');
      // prom-client (≈ 1.4 MB of heap) is loaded only by a server that serves metrics.
      const [
        { createMetricsRegistry, startMetricsServer },
        { registerFileMetrics },
        clusterMetrics,
      ] = await Promise.all([
        import('./metrics.js'),
        import('./files/file-metrics.js'),
        cluster ? import('./cluster/cluster-metrics.js') : undefined,
      ]);
      const registry = createMetricsRegistry({
        stats,
        connectionsOpen: () => core.limiter.open,
        usersOnline: () => directory.size,
        penalizedAddresses: () => core.limiter.penalized,
        storedBytes: () => store.mailbox.totalBytes(),
      });
      if (core.context.files) registerFileMetrics(registry, core.context.files);
      if (cluster && clusterMetrics)
        clusterMetrics.registerClusterMetrics(registry, () => cluster.figures(directory.size));
      metricsServer = await startMetricsServer(registry, host, port, {
        who: () =>
          [...directory.members()].map((session) => ({
            name: session.name,
            address: session.remoteAddress,
            version: session.version,
            caps: Object.values(Capability).filter((cap) => session.has(cap)),
            connectedSince: session.connectedAt,
          })),
        ...(process.env.SECURECHAT_ADMIN_TOKEN
          ? { token: process.env.SECURECHAT_ADMIN_TOKEN }
          : {}),
      });
      const bound = metricsServer.address();
      metricsAddress = { host, port: typeof bound === 'object' && bound ? bound.port : port };
      logger.info(
        { event: 'metrics.listening', ...metricsAddress },
        'Prometheus metrics at /metrics',
      );
    }
    if (config.trustedProxies.length === 0 && sharedAddresses.size > 0) {
      logger.warn(
        { event: 'config.shared_address', addresses: [...sharedAddresses] },
        'no --trusted-proxy: clients from these addresses (e.g. a plain `ngrok tcp`) share one address, so per-address limits key on identities for them; use `ngrok tcp --proxy-proto 2` with --trusted-proxy for real addresses',
      );
    }
    logger.info(
      { event: 'server.listening', host: address.address, port: address.port, pin },
      'securechat server listening',
    );

    let closing: Promise<void> | undefined;
    return {
      host: address.address,
      port: address.port,
      pin,
      generatedCertificate: certificate.generated,
      directory,
      stats,
      metricsAddress,
      cluster,
      async sweep() {
        maintenance.sweepIdle();
        await maintenance.sweepStore();
      },
      close() {
        closing ??= (async () => {
          clock.clearInterval(idleSweep);
          clock.clearInterval(storeSweep);
          const stopped = listener.close();
          for (const session of core.sessions) session.shutdown();
          metricsServer?.closeAllConnections();
          await Promise.all([
            stopped,
            new Promise((resolve) =>
              metricsServer ? metricsServer.close(resolve) : resolve(undefined),
            ),
          ]);
          await cluster?.stop();
          await core.close();
          logger.info({ event: 'server.stopped' });
        })();
        return closing;
      },
    };
  } catch (error) {
    clock.clearInterval(idleSweep);
    clock.clearInterval(storeSweep);
    await listener.close().catch(() => {});
    metricsServer?.close();
    await cluster?.stop();
    await core.close();
    throw error;
  }
}

/** A socket's `error` listener (shared by all of them: `this` is the socket). */
function destroyEmitter(this: { destroy(): void }): void {
  this.destroy();
}

/** Connects to the cluster's Redis and checks this node serves the cluster's certificate. */
async function joinCluster(
  config: ServerConfig,
  url: string,
  logger: Logger,
  pin: string,
  signal: AbortSignal | undefined,
): Promise<ClusterNode> {
  const { ClusterNode } = await import('./cluster/cluster-node.js');
  const cluster = new ClusterNode({
    url,
    logger,
    heartbeatMs: config.clusterHeartbeatMs,
    relayTimeoutMs: config.clusterRelayTimeoutMs,
    connectionLimits: {
      maxConnections: config.maxConnections,
      maxPerIp: config.maxConnectionsPerIp,
    },
  });
  try {
    await cluster.connect(pin, { waitMs: config.redisWaitMs, ...(signal ? { signal } : {}) });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
