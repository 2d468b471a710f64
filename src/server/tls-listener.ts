import { constants as cryptoConstants } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import { addressKey } from './limits/address-key.js';
import type { ConnectionGate } from './limits/connection-gate.js';
import type { AdmitRefusal, ConnectionLimiter } from './limits/connection-limiter.js';
import { mayStartProxyHeader, PROXY_V2_MAX_BYTES, parseProxyHeader } from './proxy-protocol.js';
import {
  answerPlaintextOnRefusal,
  classifyHandshakeError,
  plaintextReply,
  type RejectReason,
} from './tls-refusal.js';

/** TLS 1.2 suites allowed: ECDHE with AEAD only (TLS 1.3 suites are all AEAD). */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** How long a plaintext client answered in plain text may keep the socket. */
const PLAINTEXT_CLOSE_MS = 1000;

const EMPTY = Buffer.alloc(0);
const ignoreError = () => {};

/** First byte of a TLS handshake record (ContentType handshake, RFC 8446 §5.1). */
const TLS_HANDSHAKE_RECORD = 0x16;

export type { RejectReason } from './tls-refusal.js';

export interface Remote {
  address: string;
  port: number;
  /** Address of the forwarder when the PROXY protocol supplied `address`. */
  via?: string;
}

export interface TlsListenerOptions {
  certPem: string;
  keyPem: string;
  handshakeTimeoutMs: number;
  limiter: ConnectionLimiter;
  /** Shared caps checked after the limiter admitted a connection (a cluster node). */
  gate?: ConnectionGate;
  /** Forwarders allowed to send a PROXY header (normalized addresses). Empty: none. */
  trustedProxies: ReadonlySet<string>;
  /**
   * Answer plaintext clients in plain text (default): when OpenSSL refuses the first record
   * as not TLS, the answer goes out on the TCP socket before it is closed. false: dropped
   * without an answer. Either way JS reads only the first bytes (after a trusted
   * forwarder's PROXY header) and hands them to OpenSSL unparsed.
   */
  plaintextReply?: boolean;
  /** Time and timers (handshake timeout, closing refused plaintext clients). */
  clock?: Clock;
  /** A connection completed its TLS handshake (`raw` is the TCP socket under it). */
  onSecure(socket: TLSSocket, remote: Remote, raw: Socket): void;
  /** A connection was dropped before or during the handshake. */
  onRejected(reason: RejectReason, remote: Remote, detail?: string): void;
  /** A connection was refused by the caps or the penalty box before any processing. */
  onRefused(reason: AdmitRefusal, remote: Remote): void;
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

/** `::ffff:1.2.3.4` → `1.2.3.4`, so limits and allow-lists see one form per address. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Accepts TCP connections and, before any TLS processing: applies the connection caps and
 * the penalty box and reads a PROXY header from trusted forwarders (so limits and logs see
 * the real client). Then runs the TLS handshake under a timeout; a plaintext client is
 * recognized by OpenSSL's refusal of its first record and answered in plain text. The only
 * module that speaks TLS on the server.
 */
export class TlsListener {
  readonly server: Server;
  #options: TlsListenerOptions;
  #context: SecureContext;
  #pending = new Set<Socket>();
  #clock: Clock;
  #closed = false;

  constructor(options: TlsListenerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#context = createServerSecureContext(options.certPem, options.keyPem);
    this.server = createServer({ noDelay: true, pauseOnConnect: false }, (socket) =>
      this.#accept(socket),
    );
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

  /** Stops accepting; destroys sockets still before or in the handshake. */
  close(): Promise<void> {
    this.#closed = true;
    return new Promise((resolve) => {
      for (const socket of this.#pending) socket.destroy();
      this.server.close(() => resolve());
    });
  }

  #accept(socket: Socket): void {
    const peer = normalizeAddress(socket.remoteAddress);
    const remote: Remote = { address: peer, port: socket.remotePort ?? 0 };
    const trustedForwarder = this.#options.trustedProxies.has(peer);
    socket.on('error', ignoreError);
    // Without a trusted forwarder in front, the socket address is the client: check now,
    // before spending anything on it (the socket stays paused until admitted).
    if (trustedForwarder) this.#handshake(socket, remote, 'proxy');
    else this.#takeSlot(socket, remote, () => this.#handshake(socket, remote, 'first'));
  }

  /**
   * Applies the caps and the penalty box to `remote`: this node's limiter first, then the
   * shared gate when there is one. Calls `admitted` once the connection may go on; a
   * refused socket is destroyed.
   */
  #takeSlot(socket: Socket, remote: Remote, admitted: () => void): void {
    const key = addressKey(remote.address); // IPv6 by /64
    const refusal = this.#options.limiter.tryOpen(key, this.#clock.now());
    if (refusal) {
      this.#options.onRefused(refusal, remote);
      socket.destroy();
      return;
    }
    const { limiter } = this.#options;
    socket.on('close', release(limiter, key)); // 'close' comes once: no `once` wrapper
    const gate = this.#options.gate;
    if (!gate) {
      admitted();
      return;
    }
    void gate.open(key).then((shared) => {
      if (shared) {
        this.#options.onRefused(shared, remote);
        socket.destroy();
        return;
      }
      if (socket.destroyed || this.#closed) {
        gate.close(key);
        socket.destroy();
        return;
      }
      socket.on('close', release(gate, key));
      admitted();
    });
  }

  /**
   * Reads a PROXY header and the first bytes after it (`proxy`: from a trusted forwarder),
   * or the first bytes only (`first`), then runs TLS on them under a timeout.
   * What this needs (the first bytes, the timer, the listeners below) is let go of once the
   * handshake settled: a held connection keeps none of it.
   *
   * Why the first bytes are read in JS although OpenSSL could read the TCP handle itself (as
   * `tls.Server` does): OpenSSL's input buffer is sized by its first write. Read by the TLS
   * handle, that is libuv's 64 KiB read suggestion; handed over from JS, the size of the
   * ClientHello. The buffer stays for the connection's life, and a held idle connection
   * measured 31.4 KiB of RSS without this read and 26.7 KiB with it (10,000 clients,
   * bench/RESULTS.md), at no measurable CPU per connect.
   */
  #handshake(socket: Socket, client: Remote, first: 'proxy' | 'first'): void {
    let remote = client;
    this.#pending.add(socket);
    const handshake = new Handshake(socket, this.#pending, this.#clock, (reason) =>
      this.#options.onRejected(reason, remote),
    );
    handshake.start(this.#options.handshakeTimeoutMs);
    if (first === 'first') {
      // Whatever it is, OpenSSL decides (a plaintext client is answered from its refusal).
      const onFirst = (chunk: Buffer) => {
        socket.off('data', onFirst);
        socket.pause();
        if (!handshake.settled) this.#startTls(socket, chunk, remote, handshake, false);
      };
      socket.on('data', onFirst);
      return;
    }

    let head: Buffer = Buffer.alloc(0);
    let proxyDone = false;
    const settle = () => handshake.settle();
    const proceed = () => {
      if (handshake.settled) return;
      if (head.length === 0) {
        socket.on('data', onData); // header only so far: wait for the ClientHello
        socket.resume();
        return;
      }
      socket.pause();
      const bytes = head;
      head = EMPTY;
      if (bytes[0] !== TLS_HANDSHAKE_RECORD) {
        settle();
        this.#rejectPlaintext(socket, bytes, remote);
        return;
      }
      this.#startTls(socket, bytes, remote, handshake, true);
    };
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (!proxyDone && mayStartProxyHeader(head[0]!)) {
        const parsed = parseProxyHeader(head);
        if (parsed.status === 'incomplete') {
          if (head.length > PROXY_V2_MAX_BYTES)
            this.#drop(socket, settle, 'proxy_invalid', remote, 'too long');
          return;
        }
        if (parsed.status === 'invalid') {
          this.#drop(socket, settle, 'proxy_invalid', remote, parsed.reason);
          return;
        }
        if (parsed.source) remote = { ...parsed.source, via: client.address };
        head = head.subarray(parsed.consumed);
      }
      socket.off('data', onData);
      socket.pause();
      if (!proxyDone) {
        proxyDone = true;
        this.#takeSlot(socket, remote, proceed);
        return;
      }
      proceed();
    };
    socket.on('data', onData);
  }

  #drop(
    socket: Socket,
    settle: () => void,
    reason: RejectReason,
    remote: Remote,
    detail: string,
  ): void {
    settle();
    this.#options.onRejected(reason, remote, detail);
    socket.destroy();
  }

  /**
   * `head`: the bytes already read, handed to OpenSSL first. `checked`: their first byte was
   * looked at in JS (after a PROXY header: plaintext is answered there); otherwise OpenSSL
   * tells a first record that is not TLS, and a plaintext client is answered from that.
   */
  #startTls(
    socket: Socket,
    head: Buffer,
    remote: Remote,
    handshake: Handshake,
    checked: boolean,
  ): void {
    socket.unshift(head); // TLSSocket feeds buffered data to OpenSSL first
    const tlsSocket = new TLSSocket(socket, {
      isServer: true,
      secureContext: this.#context,
      requestCert: false,
      rejectUnauthorized: false,
    });
    const unhook =
      !checked && this.#options.plaintextReply !== false
        ? answerPlaintextOnRefusal(tlsSocket, socket, handshake)
        : undefined;
    const onError = (error: NodeJS.ErrnoException) => {
      if (handshake.settled) return;
      handshake.settle();
      const reason = classifyHandshakeError(error, socket, checked, handshake);
      this.#options.onRejected(reason, remote, error.code ?? error.message);
      tlsSocket.destroy();
    };
    // Removed when it runs (the handler and the handshake it holds must not stay on a held
    // connection), without a `once` wrapper.
    const onSecure = () => {
      tlsSocket.off('secure', onSecure);
      if (handshake.settled) return;
      handshake.settle();
      unhook?.();
      // onError ignores errors from here on (settled) until the session's own error listener
      // (added by onSecure) takes over.
      this.#options.onSecure(tlsSocket, remote, socket);
      tlsSocket.off('error', onError);
    };
    tlsSocket.on('secure', onSecure);
    tlsSocket.on('error', onError);
  }

  #rejectPlaintext(socket: Socket, chunk: Buffer, remote: Remote): void {
    const text = chunk.subarray(0, 12).toString('latin1');
    const http = /^(GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT|PATCH|PRI) /.test(text);
    const proxy =
      mayStartProxyHeader(chunk[0]!) && (text.startsWith('PROXY ') || chunk[0] === 0x0d);
    this.#options.onRejected(
      http ? 'plaintext_http' : proxy ? 'proxy_untrusted' : 'plaintext',
      remote,
    );
    socket.end(plaintextReply(http));
    this.#clock.setTimeout(() => socket.destroy(), PLAINTEXT_CLOSE_MS);
  }
}

/**
 * A close listener giving back `key`'s slot, made apart from the listener's closures so a
 * held connection keeps only the limiter and the key, not what the handshake used.
 */
function release(limits: { close(key: string): void }, key: string): () => void {
  return () => limits.close(key);
}

/**
 * One connection's handshake under way: its timeout, its place among the pending sockets,
 * and a close before it settled (reported as `reset`). A class rather than closures over
 * {@link TlsListener.#handshake}: every connection makes one. Settling lets go of all of it.
 */
class Handshake {
  settled = false;
  plaintextAnswered = false;
  #socket: Socket;
  #pending: Set<Socket>;
  #clock: Clock;
  #rejected: (reason: RejectReason) => void;
  #timer: TimerHandle | undefined;
  #onClose = () => {
    if (this.settled) return;
    this.settle();
    this.#rejected('reset');
  };

  constructor(
    socket: Socket,
    pending: Set<Socket>,
    clock: Clock,
    rejected: (reason: RejectReason) => void,
  ) {
    this.#socket = socket;
    this.#pending = pending;
    this.#clock = clock;
    this.#rejected = rejected;
  }

  /** Arms the timeout and watches for an early close. */
  start(timeoutMs: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.settled) return;
      this.settle();
      this.#rejected('handshake_timeout');
      this.#socket.destroy();
    }, timeoutMs);
    this.#socket.on('close', this.#onClose);
  }

  settle(): void {
    this.settled = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.delete(this.#socket);
    this.#socket.off('close', this.#onClose);
  }
}
