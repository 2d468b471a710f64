import type { TLSSocket } from 'node:tls';
import { certificatePin, loadOrCreateCertificate } from './certs.js';
import type { ServerConfig } from './config.js';
import { PeerDirectory } from './directory.js';
import type { Logger } from './logger.js';
import { PresenceBroadcaster } from './presence.js';
import { Session, type SessionContext } from './session.js';
import { SqliteStore } from './store/index.js';
import { type RejectReason, TlsListener } from './tls-listener.js';
import type { Transport } from './transport.js';

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `sha256:<hex>` of the certificate, for client pins. */
  readonly pin: string;
  /** True when the certificate was generated at this start. */
  readonly generatedCertificate: boolean;
  readonly directory: PeerDirectory<Session>;
  /** Stops accepting, tells every client, closes every connection. */
  close(): Promise<void>;
}

function transportFor(socket: TLSSocket, remote: { address: string; port: number }): Transport {
  return {
    remote: `${remote.address}:${remote.port}`,
    remoteAddress: remote.address,
    get writableLength() {
      return socket.writableLength;
    },
    write: (data) => socket.write(data),
    end: () => {
      socket.end();
      // A peer that never reads would keep a half-closed socket forever.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
    destroy: () => socket.destroy(),
    exportKeyingMaterial: (length, label, context) =>
      socket.exportKeyingMaterial(length, label, Buffer.from(context ?? [])),
  };
}

/** Starts the relay daemon: loads or creates the certificate, then listens. */
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
  const directory = new PeerDirectory<Session>();
  const presence = new PresenceBroadcaster(directory);
  const context: SessionContext = {
    directory,
    presence,
    store,
    logger,
    limits: {
      maxLineBytes: config.maxLineBytes,
      helloTimeoutMs: config.helloTimeoutMs,
      maxSendQueueBytes: config.maxSendQueueBytes,
    },
  };
  const sessions = new Set<Session>();
  let nextId = 0;

  const listener = new TlsListener({
    certPem: certificate.certPem,
    keyPem: certificate.keyPem,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    onSecure(socket, remote) {
      const session = new Session((++nextId).toString(36), transportFor(socket, remote), context);
      sessions.add(session);
      socket.on('data', (chunk: Buffer) => session.receive(chunk));
      socket.on('error', () => socket.destroy());
      socket.once('close', () => {
        sessions.delete(session);
        session.transportClosed();
      });
    },
    onRejected(reason: RejectReason, remote, detail) {
      logger.info(
        { event: 'tls.rejected', reason, remote: `${remote.address}:${remote.port}`, detail },
        'connection dropped before a TLS session was established',
      );
    },
  });

  const address = await listener.listen(config.port, config.host);
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
    close() {
      closing ??= (async () => {
        const stopped = listener.close();
        for (const session of sessions) session.shutdown();
        await stopped;
        store.close();
        logger.info({ event: 'server.stopped' });
      })();
      return closing;
    },
  };
}
