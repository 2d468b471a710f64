import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { BatchedWriter } from './batched-writer.js';
import type { Clock } from './clock.js';
import type { Remote } from './tls-listener.js';
import type { Transport } from './transport.js';

/** Idle time before the first TCP keepalive probe (docs/PROTOCOL.md: 60 s from the server). */
export const KEEPALIVE_IDLE_MS = 60_000;

/** How a transport ends: a peer that has not let go within `graceMs` is destroyed. */
export interface TransportClose {
  graceMs: number;
  clock: Clock;
}

/**
 * Adapts a TLS socket to the session's {@link Transport}: batched writes, input pausing,
 * drain notification, and a close that stops reading at once and destroys the socket if
 * the peer has not let go within `close.graceMs` (a client refused for a fatal error must
 * not keep the server reading and decrypting). A class rather than an object of closures:
 * every held connection has one, so its methods live once on the prototype.
 */
export class SocketTransport extends BatchedWriter implements Transport {
  readonly remoteAddress: string;
  readonly addressKey: string | undefined;
  #tls: TLSSocket;
  #raw: Socket;
  #port: number;
  #close: TransportClose;

  constructor(
    socket: TLSSocket,
    raw: Socket,
    remote: Remote,
    addressKey: string | undefined,
    close: TransportClose,
  ) {
    super(socket);
    this.#tls = socket;
    this.#raw = raw;
    this.remoteAddress = remote.address;
    this.#port = remote.port;
    this.addressKey = addressKey;
    this.#close = close;
  }

  /** `ip:port` (`[ip]:port` for IPv6), made when asked (the session log binds it once). */
  get remote(): string {
    const address = this.remoteAddress;
    return address.includes(':') ? `[${address}]:${this.#port}` : `${address}:${this.#port}`;
  }

  get bytesRead(): number {
    return this.#raw.bytesRead;
  }

  override write(data: string | Uint8Array): void {
    if (typeof data === 'string') super.write(data);
    else {
      this.flush();
      this.#tls.write(data);
    }
  }

  /**
   * Header and body corked into one TLS write; `written` runs from the socket's write
   * callback (Node calls it once the bytes are handed on, or with an error when the socket
   * is destroyed first), so the body's buffer can go back to its pool only then.
   */
  writeLent(header: string, body: Uint8Array, written: () => void): void {
    this.flush();
    const socket = this.#tls;
    if (socket.destroyed) {
      written();
      return;
    }
    socket.cork();
    socket.write(header, 'latin1');
    socket.write(body, () => written());
    socket.uncork();
  }

  keepAlive(): void {
    this.#tls.setKeepAlive(true, KEEPALIVE_IDLE_MS);
  }

  pause(): void {
    this.#tls.pause();
  }

  resume(): void {
    this.#tls.resume();
  }

  whenDrained(callback: () => void): void {
    this.flush();
    const socket = this.#tls;
    if (socket.destroyed) return;
    if (socket.writableNeedDrain) socket.once('drain', callback);
    else setImmediate(callback); // the next turn, as 'drain' would be: not a timeout
  }

  end(): void {
    const socket = this.#tls;
    socket.pause();
    this.flush();
    socket.end();
    this.#close.clock.setTimeout(() => socket.destroy(), this.#close.graceMs);
  }

  destroy(): void {
    this.discard();
    this.#tls.destroy();
  }

  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array {
    return this.#tls.exportKeyingMaterial(length, label, Buffer.from(context ?? []));
  }
}

/** The {@link Transport} of a TLS socket (see {@link SocketTransport}). */
export function socketTransport(
  socket: TLSSocket,
  raw: Socket,
  remote: Remote,
  addressKey: string | undefined,
  close: TransportClose,
): Transport {
  return new SocketTransport(socket, raw, remote, addressKey, close);
}

/** What {@link attachSession} needs of a socket (a TLSSocket; any emitter in tests). */
interface SessionSocket {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * Feeds what `socket` reads to `session` until the socket closes, then calls `closed` once.
 * On close the socket lets go of the session (both listeners removed): Node keeps a closed
 * socket's objects, through its native handle, until a full collection, and everything its
 * listeners reached would be promoted to the old generation with them; the session's own
 * objects die young instead.
 */
export function attachSession(
  socket: SessionSocket,
  session: { receive(chunk: Uint8Array): void },
  closed: () => void,
): void {
  const onData = (chunk: Buffer) => session.receive(chunk);
  const onClose = () => {
    socket.off('data', onData);
    socket.off('close', onClose);
    closed();
  };
  socket.on('data', onData);
  socket.on('close', onClose);
}
