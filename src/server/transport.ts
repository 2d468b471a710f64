/**
 * The narrow view a session has of its connection, so the session state machine can be
 * driven by tests and fuzzers without sockets. tls-listener.ts adapts a TLSSocket to it.
 */
export interface Transport {
  /** `ip:port` of the peer (after PROXY protocol translation, when enabled). */
  readonly remote: string;
  /** The peer's IP address alone. */
  readonly remoteAddress: string;
  /** Bytes queued in user space, not yet handed to the kernel. */
  readonly writableLength: number;
  /** Queues bytes; false means the kernel buffer is full (the bytes are still queued). */
  write(data: string | Uint8Array): boolean;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
  /** RFC 5705 keying material exporter of the TLS session (for v2 hello proofs). */
  exportKeyingMaterial?(length: number, label: string, context?: Uint8Array): Uint8Array;
}
