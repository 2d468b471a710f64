import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ErrorCode, encodeError } from '../protocol/index.js';

/**
 * Why a connection was dropped before its TLS session was established, how a TLS error is
 * named, and what a plaintext client is told (tls-listener.ts decides when).
 */

export type RejectReason =
  | 'plaintext_http'
  | 'plaintext'
  | 'proxy_untrusted'
  | 'proxy_invalid'
  | 'handshake_timeout'
  | 'tls_version'
  | 'tls_error'
  | 'reset';

const PLAINTEXT_MESSAGE =
  'this port speaks TLS: connect with `securechat connect` (pin the certificate)';

/** What a plaintext client is told: an HTTP 400 for an HTTP request, else `E_TLS_REQUIRED`. */
export function plaintextReply(http: boolean): string {
  return http
    ? `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ${PLAINTEXT_MESSAGE.length + 1}\r\n\r\n${PLAINTEXT_MESSAGE}\n`
    : encodeError(ErrorCode.TLS_REQUIRED, PLAINTEXT_MESSAGE);
}

/** What the refusal of a handshake under way reads and records (tls-listener.ts's Handshake). */
export interface RefusalState {
  readonly settled: boolean;
  /** A plain-text answer went out on the TCP socket (the first record was not TLS). */
  plaintextAnswered: boolean;
}

/** Node's native TLS handle under a TLSSocket (`TLSSocket#_handle`, a `TLSWrap`). */
interface TlsWrapHandle {
  onerror?: (this: TlsWrapHandle, error: NodeJS.ErrnoException) => void;
}

/** Bytes written on the TCP socket by anyone, TLS included (the native handle's count). */
function tcpBytesWritten(raw: Socket): number | undefined {
  return (raw as unknown as { _handle?: { bytesWritten?: number } | null })._handle?.bytesWritten;
}

/**
 * Answers a plaintext client in plain text without reading its bytes in JS first: when
 * OpenSSL refuses the first record as not TLS (an HTTP request, or anything else that is not
 * a TLS record header), Node calls the TLS handle's `onerror` and only then closes the TCP
 * socket under it. Wrapping that callback writes the answer to the TCP socket first, if
 * nothing was written on it yet (OpenSSL sends no alert for a first record that is not TLS;
 * a TLS client that sends garbage later in its handshake already got TLS records and gets
 * no plain text after them); the `error` event comes a tick later, when the TCP socket may
 * already be closed. If Node ever stops calling `onerror` this way, the client is dropped
 * unanswered, still counted.
 * Returns what puts Node's own callback back (once the handshake succeeded, so a held
 * connection keeps no closure of its handshake).
 */
export function answerPlaintextOnRefusal(
  tlsSocket: TLSSocket,
  raw: Socket,
  handshake: RefusalState,
): (() => void) | undefined {
  const handle = (tlsSocket as unknown as { _handle: TlsWrapHandle | null })._handle;
  const nodeOnError = handle?.onerror;
  if (!handle || !nodeOnError) return undefined;
  handle.onerror = function onerror(error) {
    if (!handshake.settled && !raw.destroyed && tcpBytesWritten(raw) === 0) {
      const reason = classifyFirstRecordError(error);
      if (reason === 'plaintext_http' || reason === 'plaintext') {
        handshake.plaintextAnswered = true;
        raw.end(plaintextReply(reason === 'plaintext_http'));
      }
    }
    nodeOnError.call(this, error);
  };
  return () => {
    handle.onerror = nodeOnError;
  };
}

/**
 * Names a TLS error before the handshake settled. `checked`: the first bytes were looked at
 * in JS (after a PROXY header; plaintext was answered there). Otherwise the error is about
 * the first record only while nothing was written on `raw` yet: once the server sent its TLS
 * flight, the client spoke TLS, and a record that is not TLS after it is a TLS error, not a
 * plaintext client (it gets no plain-text answer either; see answerPlaintextOnRefusal).
 */
export function classifyHandshakeError(
  error: NodeJS.ErrnoException,
  raw: Socket,
  checked: boolean,
  handshake: RefusalState,
): RejectReason {
  // (The plain-text answer, written before this runs, is not the server's TLS flight.)
  return !checked && (handshake.plaintextAnswered || tcpBytesWritten(raw) === 0)
    ? classifyFirstRecordError(error)
    : classifyTlsError(error);
}

/**
 * A TLS error on a connection whose first bytes nobody looked at: OpenSSL names what a
 * plaintext client sent (an HTTP request or proxy CONNECT; any other first record that is
 * not TLS is a "wrong version number"), and sends no alert for either.
 */
export function classifyFirstRecordError(error: NodeJS.ErrnoException): RejectReason {
  const code = error.code ?? '';
  if (code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_HTTPS_PROXY_REQUEST')
    return 'plaintext_http';
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'plaintext';
  return classifyTlsError(error);
}

export function classifyTlsError(error: NodeJS.ErrnoException): RejectReason {
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
