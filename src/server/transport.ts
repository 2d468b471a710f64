/**
 * The narrow view a session has of its connection, so the session state machine can be
 * driven by tests and fuzzers without sockets. socket-transport.ts adapts a TLSSocket to it
 * (a WebSocket adapter would implement the same interface).
 */
export interface Transport {
  /** `ip:port` of the peer (after PROXY protocol translation, when enabled). */
  readonly remote: string;
  /** The peer's IP address alone. */
  readonly remoteAddress: string;
  /**
   * Key per-address limits use for this client (IPv6 by /64), or undefined when the address
   * is shared by many clients (a forwarder without the PROXY protocol): then identities
   * carry the per-address limits.
   */
  readonly addressKey: string | undefined;
  /** Bytes queued in user space, not yet handed to the kernel. */
  readonly writableLength: number;
  /** Raw bytes read from the connection so far. */
  readonly bytesRead: number;
  /**
   * Queues bytes (never refused: the session bounds its own queue with
   * {@link writableLength}, see session-output.ts).
   */
  write(data: string | Uint8Array): void;
  /**
   * Queues a header line and the bytes after it as one write, without copying `body`: the
   * caller keeps it unchanged until `written` is called (once: the socket is done with it,
   * written out or the connection destroyed). Optional: without it, the caller copies.
   */
  writeLent?(header: string, body: Uint8Array, written: () => void): void;
  /** Stops reading from the connection (the session cannot keep up, or refused it). */
  pause(): void;
  resume(): void;
  /** Calls back once the queued output has drained (soon, when nothing is waiting). */
  whenDrained(callback: () => void): void;
  /** Stops reading, flushes what is queued, closes; destroys it if that takes too long. */
  end(): void;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
  /**
   * Turns on TCP keepalive: called once a session's hello is admitted, for the sessions
   * nothing else finds dead (v1 clients never ping), not on every connect.
   */
  keepAlive?(): void;
  /** RFC 5705 keying material exporter of the TLS session (for v2 hello proofs). */
  exportKeyingMaterial?(length: number, label: string, context?: Uint8Array): Uint8Array;
}
