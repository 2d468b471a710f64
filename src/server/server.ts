import type { Server as HttpServer } from 'node:http';
import { certificatePin, loadOrCreateCertificate } from './certs.js';
import type { ServerConfig } from './config.js';
import { parseListenAddress } from './config.js';
import type { PeerDirectory } from './directory.js';
import { addressKey } from './limits/address-key.js';
import { ConnectionLimiter } from './limits/connection-limiter.js';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import { createMaintenance } from './maintenance.js';
import { createMetricsRegistry, startMetricsServer } from './metrics.js';
import type { RoomPasswordHasher } from './rooms/password-gate.js';
import { PasswordHasher } from './rooms/password-hasher.js';
import { createSessionContext } from './services.js';
import { Session } from './session.js';
import { socketTransport } from './socket-transport.js';
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
  /** Runs the periodic housekeeping now (idle sessions, expired messages, names, rooms); tests move the clock and call it. */
  sweep(): void;
  /** Stops accepting, tells every client, closes every connection. */
  close(): Promise<void>;
}

/**
 * What tests (and embedders) may inject instead of the defaults: a clock, a store, a
 * password hasher. Production uses the system clock, SQLite at `config.dataPath` and the
 * argon2id worker.
 */
export interface ServerDeps {
  now?: () => number;
  store?: ServerStore;
  hasher?: RoomPasswordHasher;
}

/** Starts the relay daemon: loads or creates the certificate, opens the store, listens. */
export async function startServer(
  config: ServerConfig,
  logger: Logger,
  deps: ServerDeps = {},
): Promise<RunningServer> {
  const now = deps.now ?? Date.now;
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

  const store = deps.store ?? new SqliteStore(config.dataPath);
  const hasher = deps.hasher ?? new PasswordHasher();
  const limiter = new ConnectionLimiter({
    maxConnections: config.maxConnections,
    maxPerIp: config.maxConnectionsPerIp,
    penaltyMs: config.penaltyMs,
    strikes: config.strikes,
  });
  const context = createSessionContext(config, logger, { store, hasher, limiter, now });
  const { stats, directory } = context;
  const securityLog = new LogThrottle(60_000);
  const sharedAddresses = new Set(config.sharedAddresses.map((a) => normalizeAddress(a)));
  let sharedSeen = false;
  const sessions = new Set<Session>();
  let nextId = 0;

  const listener = new TlsListener({
    certPem: certificate.certPem,
    keyPem: certificate.keyPem,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limiter,
    now,
    trustedProxies: new Set(config.trustedProxies.map((address) => normalizeAddress(address))),
    onSecure(socket, remote, raw) {
      stats.connectionsTotal++;
      const cipher = socket.getCipher();
      stats.tlsAccepted.inc(
        `${socket.getProtocol() ?? '?'}|${cipher?.standardName ?? cipher?.name ?? '?'}`,
      );
      // v1 clients never ping: TCP keepalive finds dead peers for them.
      socket.setKeepAlive(true, 60_000);
      const shared = remote.via === undefined && sharedAddresses.has(remote.address);
      if (shared && !sharedSeen) {
        sharedSeen = true;
        logger.warn(
          { event: 'address.shared', address: remote.address },
          'clients arrive from a shared address (a forwarder without the PROXY protocol): identities carry the per-address limits',
        );
      }
      const transport = socketTransport(
        socket,
        raw,
        remote,
        shared ? undefined : addressKey(remote.address),
        config.closeGraceMs,
      );
      const session = new Session((++nextId).toString(36), transport, context);
      sessions.add(session);
      socket.on('data', (chunk: Buffer) => session.receive(chunk));
      socket.on('error', () => socket.destroy());
      socket.once('close', () => {
        sessions.delete(session);
        session.transportClosed();
      });
    },
    onRejected(reason, remote, detail) {
      stats.tlsRejected.inc(reason);
      if (reason.startsWith('plaintext') || reason.startsWith('proxy'))
        stats.securityEvents.inc('plaintext_probe');
      const suppressed = securityLog.allow(`${reason}|${remote.address}`, now());
      if (suppressed === undefined) return;
      logger.info(
        {
          event:
            reason.startsWith('plaintext') || reason === 'proxy_untrusted'
              ? 'plaintext.probe'
              : 'tls.failure',
          reason,
          remote: remote.address,
          detail,
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        'connection dropped before a TLS session was established',
      );
    },
    onRefused(reason, remote) {
      stats.connectionsRefused.inc(reason);
      const suppressed = securityLog.allow(`refused|${reason}|${remote.address}`, now());
      if (suppressed === undefined) return;
      logger.warn(
        {
          event: 'connection.refused',
          reason,
          remote: remote.address,
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        'connection refused by limits',
      );
    },
  });

  const maintenance = createMaintenance({
    config,
    sessions,
    router: context.router,
    rooms: context.rooms,
    store,
    logger,
    now,
  });
  const guarded = (task: () => void, what: string) => () => {
    try {
      task();
    } catch (error) {
      stats.internalErrors.inc(what);
      logger.error({ event: 'internal_error', where: what, err: error }, 'housekeeping failed');
    }
  };
  const idleSweep =
    maintenance.idleIntervalMs === undefined
      ? undefined
      : setInterval(
          guarded(maintenance.sweepIdle, 'idle_sweep'),
          maintenance.idleIntervalMs,
        ).unref();
  const storeSweep = setInterval(guarded(maintenance.sweepStore, 'store_sweep'), 3_600_000).unref();

  let metricsServer: HttpServer | undefined;
  let metricsAddress: { host: string; port: number } | undefined;
  try {
    const address = await listener.listen(config.port, config.host);
    if (config.metrics) {
      const { host, port } = parseListenAddress(config.metrics, '--metrics');
      const registry = createMetricsRegistry({
        stats,
        connectionsOpen: () => limiter.open,
        usersOnline: () => directory.size,
        penalizedAddresses: () => limiter.penalized,
        storedBytes: () => store.mailbox.totalBytes,
      });
      metricsServer = await startMetricsServer(registry, host, port);
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
      sweep() {
        maintenance.sweepIdle();
        maintenance.sweepStore();
      },
      close() {
        closing ??= (async () => {
          clearInterval(idleSweep);
          clearInterval(storeSweep);
          const stopped = listener.close();
          for (const session of sessions) session.shutdown();
          metricsServer?.closeAllConnections();
          await Promise.all([
            stopped,
            new Promise((resolve) =>
              metricsServer ? metricsServer.close(resolve) : resolve(undefined),
            ),
          ]);
          await hasher.close?.();
          store.close();
          logger.info({ event: 'server.stopped' });
        })();
        return closing;
      },
    };
  } catch (error) {
    clearInterval(idleSweep);
    clearInterval(storeSweep);
    await listener.close().catch(() => {});
    metricsServer?.close();
    await hasher.close?.();
    store.close();
    throw error;
  }
}
