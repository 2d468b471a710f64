import { constants as cryptoConstants } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';

/** TLS 1.2 suites allowed: ECDHE with AEAD only (TLS 1.3 suites are all AEAD). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** First byte of a TLS handshake record (ContentType handshake, RFC 8446 §5.1). */
const TLS_HANDSHAKE_RECORD = 0x16;

export type RejectReason =
  | 'plaintext_http'
  | 'plaintext'
  | 'handshake_timeout'
  | 'tls_version'
  | 'tls_error'
  | 'reset';

export interface TlsListenerOptions {
  certPem: string;
  keyPem: string;
  handshakeTimeoutMs: number;
  /** A connection completed its TLS handshake. */
  onSecure(socket: TLSSocket, remote: { address: string; port: number }): void;
  /** A connection was dropped before or during the handshake. */
  onRejected(
    reason: RejectReason,
    remote: { address: string; port: number },
    detail?: string,
  ): void;
}

/** Server-side TLS settings: TLS ≥ 1.2, AEAD suites, no session tickets. */
export function createServerSecureContext(certPem: string, keyPem: string): SecureContext {
  return createSecureContext({
    cert: certPem,
    key: keyPem,
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
    // No resumption tickets: nothing to rotate, nothing to steal, and every connection
    // proves the server key anew.
    secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
  });
}

/**
 * Accepts TCP connections, looks at the first byte before any TLS processing (so a
 * plaintext client is recognised and answered in plain text, and a PROXY header could be
 * read first), then runs the TLS handshake under a timeout. This is the only module that
 * speaks TLS on the server.
 */
export class TlsListener {
  readonly server: Server;
  #options: TlsListenerOptions;
  #context: SecureContext;
  #sockets = new Set<Socket>();

  constructor(options: TlsListenerOptions) {
    this.#options = options;
    this.#context = createServerSecureContext(options.certPem, options.keyPem);
    this.server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  listen(port: number, host: string): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen({ port, host, backlog: 4096 }, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('listener has no TCP address'));
          return;
        }
        resolve({ address: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting; destroys sockets still in the handshake. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const socket of this.#sockets) socket.destroy();
      this.server.close(() => resolve());
    });
  }

  #accept(socket: Socket): void {
    const remote = { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    this.#sockets.add(socket);
    let settled = false;
    const timer = setTimeout(() => {
      settle();
      this.#options.onRejected('handshake_timeout', remote);
      socket.destroy();
    }, this.#options.handshakeTimeoutMs);
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      this.#sockets.delete(socket);
    };
    socket.on('error', () => {
      if (!settled) {
        settle();
        this.#options.onRejected('reset', remote);
      }
    });
    socket.once('close', () => {
      if (!settled) settle();
    });
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      if (chunk[0] !== TLS_HANDSHAKE_RECORD) {
        settle();
        this.#rejectPlaintext(socket, chunk, remote);
        return;
      }
      socket.unshift(chunk);
      const tlsSocket = new TLSSocket(socket, {
        isServer: true,
        secureContext: this.#context,
        requestCert: false,
        rejectUnauthorized: false,
      });
      tlsSocket.once('secure', () => {
        if (settled) return;
        settle();
        this.#options.onSecure(tlsSocket, remote);
      });
      tlsSocket.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settle();
        this.#options.onRejected(classifyTlsError(error), remote, error.code ?? error.message);
        tlsSocket.destroy();
      });
    });
  }

  #rejectPlaintext(socket: Socket, chunk: Buffer, remote: { address: string; port: number }): void {
    const head = chunk.subarray(0, 8).toString('latin1');
    const http = /^(GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|PATCH) /.test(head);
    this.#options.onRejected(http ? 'plaintext_http' : 'plaintext', remote);
    const message = 'this port speaks TLS: connect with `securechat connect` (pin the certificate)';
    const reply = http
      ? `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${message.length + 1}\r\n\r\n${message}\n`
      : `{"type":"error","code":"E_TLS_REQUIRED","text":"${message}"}\n`;
    socket.end(reply);
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

function classifyTlsError(error: NodeJS.ErrnoException): RejectReason {
  const code = error.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (
    code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' ||
    code.includes('VERSION') ||
    code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE'
  ) {
    return 'tls_version';
  }
  return 'tls_error';
}
