import type { Server as HttpServer } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { BatchedWriter } from './batched-writer.js';
import { certificatePin, loadOrCreateCertificate } from './certs.js';
import type { ServerConfig } from './config.js';
import { parseListenAddress } from './config.js';
import { PeerDirectory } from './directory.js';
import { ConnectionLimiter } from './limits/connection-limiter.js';
import { LogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import { createMetricsRegistry, startMetricsServer } from './metrics.js';
import { PrekeyService } from './prekey-service.js';
import { PresenceBroadcaster } from './presence.js';
import { PasswordLockout } from './rooms/lockout.js';
import { PasswordHasher } from './rooms/password-hasher.js';
import { RoomService } from './rooms/room-service.js';
import { RelayRouter } from './router.js';
import { Session, type SessionContext } from './session.js';
import { ServerStats } from './stats.js';
import { SqliteStore } from './store/index.js';
import { normalizeAddress, type Remote, TlsListener } from './tls-listener.js';
import type { Transport } from './transport.js';

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
  /** Stops accepting, tells every client, closes every connection. */
  close(): Promise<void>;
}

function transportFor(socket: TLSSocket, remote: Remote): Transport {
  const display = remote.address.includes(':')
    ? `[${remote.address}]:${remote.port}`
    : `${remote.address}:${remote.port}`;
  const writer = new BatchedWriter(socket);
  return {
    remote: display,
    remoteAddress: remote.address,
    get writableLength() {
      return writer.writableLength;
    },
    write: (data) => {
      if (typeof data === 'string') writer.write(data);
      else {
        writer.flush();
        socket.write(data);
      }
      return true;
    },
    end: () => {
      writer.flush();
      socket.end();
      // A peer that never reads would keep a half-closed socket forever.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    destroy: () => {
      writer.discard();
      socket.destroy();
    },
    exportKeyingMaterial: (length, label, context) =>
      socket.exportKeyingMaterial(length, label, Buffer.from(context ?? [])),
  };
}

/** Starts the relay daemon: loads or creates the certificate, opens the store, listens. */
export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
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

  const store = new SqliteStore(config.dataPath);
  const stats = new ServerStats();
  const directory = new PeerDirectory<Session>();
  const limiter = new ConnectionLimiter({
    maxConnections: config.maxConnections,
    maxPerIp: config.maxConnectionsPerIp,
    penaltyMs: config.penaltyMs,
    strikes: config.strikes,
  });
  const securityLog = new LogThrottle(60_000);
  const online = (name: string) => directory.get(name);
  const router = new RelayRouter<Session>({
    online,
    store,
    stats,
    mailbox: {
      perRecipient: config.mailboxPerRecipient,
      perSender: config.mailboxPerSender,
      ttlMs: config.mailboxTtlMs,
    },
  });
  const hasher = new PasswordHasher();
  const rooms = new RoomService<Session>({
    store,
    hasher,
    lockout: new PasswordLockout({
      attempts: config.roomPasswordAttempts,
      windowMs: config.roomPasswordWindowMs,
      lockMs: config.roomLockoutMs,
    }),
    logger,
    stats,
    admins: new Set(config.admins),
    ...(config.lobby ? { lobby: config.lobby } : {}),
  });
  const context: SessionContext = {
    rooms,
    directory,
    presence: new PresenceBroadcaster(directory),
    router,
    prekeys: new PrekeyService<Session>(store, online),
    store,
    logger,
    stats,
    limits: {
      maxLineBytes: config.maxLineBytes,
      helloTimeoutMs: config.helloTimeoutMs,
      maxSendQueueBytes: config.maxSendQueueBytes,
    },
    ...(config.rateLimit
      ? {
          rateLimits: {
            framesPerSecond: config.framesPerSecond,
            frameBurst: config.frameBurst,
            bytesPerSecond: config.bytesPerSecond,
            byteBurst: config.byteBurst,
            abuseLimit: config.abuseLimit,
            abuseWindowMs: 10_000,
          },
        }
      : {}),
    onAbuse(address, reason) {
      if (limiter.strike(address, Date.now())) {
        stats.securityEvents.inc('address_penalized');
        logger.warn(
          { event: 'address.penalized', address, reason, forMs: config.penaltyMs },
          'repeated abuse',
        );
      }
    },
  };
  const sessions = new Set<Session>();
  let nextId = 0;

  const listener = new TlsListener({
    certPem: certificate.certPem,
    keyPem: certificate.keyPem,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    limiter,
    trustedProxies: new Set(config.trustedProxies.map((address) => normalizeAddress(address))),
    onSecure(socket, remote) {
      stats.connectionsTotal++;
      const cipher = socket.getCipher();
      stats.tlsAccepted.inc(
        `${socket.getProtocol() ?? '?'}|${cipher?.standardName ?? cipher?.name ?? '?'}`,
      );
      // v1 clients never ping: TCP keepalive finds dead peers for them.
      socket.setKeepAlive(true, 60_000);
      const session = new Session((++nextId).toString(36), transportFor(socket, remote), context);
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
      const suppressed = securityLog.allow(`${reason}|${remote.address}`, Date.now());
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
      const suppressed = securityLog.allow(`refused|${reason}|${remote.address}`, Date.now());
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

  const idleSweep =
    config.idleTimeoutMs > 0
      ? setInterval(
          () => {
            const cutoff = Date.now() - config.idleTimeoutMs;
            for (const session of sessions) {
              if (session.version >= 2 && session.lastActivity < cutoff) session.idleTimeout();
            }
          },
          Math.max(250, Math.min(15_000, config.idleTimeoutMs / 4)),
        ).unref()
      : undefined;

  const mailboxSweep = setInterval(() => {
    const expired = router.expire();
    if (expired > 0) logger.info({ event: 'mailbox.expired', messages: expired });
  }, 3_600_000).unref();

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
      });
      metricsServer = await startMetricsServer(registry, host, port);
      const bound = metricsServer.address();
      metricsAddress = { host, port: typeof bound === 'object' && bound ? bound.port : port };
      logger.info(
        { event: 'metrics.listening', ...metricsAddress },
        'Prometheus metrics at /metrics',
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
      close() {
        closing ??= (async () => {
          clearInterval(idleSweep);
          clearInterval(mailboxSweep);
          const stopped = listener.close();
          for (const session of sessions) session.shutdown();
          metricsServer?.closeAllConnections();
          await Promise.all([
            stopped,
            new Promise((resolve) =>
              metricsServer ? metricsServer.close(resolve) : resolve(undefined),
            ),
          ]);
          await hasher.close();
          store.close();
          logger.info({ event: 'server.stopped' });
        })();
        return closing;
      },
    };
  } catch (error) {
    clearInterval(idleSweep);
    clearInterval(mailboxSweep);
    await listener.close().catch(() => {});
    metricsServer?.close();
    await hasher.close();
    store.close();
    throw error;
  }
}
