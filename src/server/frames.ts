import { ErrorCode, type HelloFrame, ProtocolError } from '../protocol/index.js';

/**
 * Serializers for server → client lines. Every interpolated value was validated to a safe
 * character set (names, Base64, capability names) or is JSON produced by JSON.stringify, so
 * concatenation yields valid JSON without re-serializing objects per recipient.
 */

/** Capabilities this server offers to v2 clients. */
export const SERVER_CAPS = [
  'presence',
  'ack',
  'ping',
  'ratchet',
  'mailbox',
  'rooms',
  'spk',
] as const;
const SERVER_CAPS_JSON = JSON.stringify(SERVER_CAPS);

/** The v2 directory entry (`PeerInfo`) of a client, from its validated hello. */
export function peerInfoJson(hello: HelloFrame): string {
  if (hello.v < 2) return `{"pub":"${hello.pub}","v":1}`;
  return `{"pub":"${hello.pub}","v":${hello.v},"idk":"${hello.idk}","sig":"${hello.pubsig}","caps":${JSON.stringify(hello.caps)}}`;
}

/**
 * The welcome. v1: the `users` map, as the seed protocol has it. v2: the directory only in
 * `peers` (with identity keys; `users` stays an empty object for parsers that expect it),
 * and only for clients with the `presence` capability: a client without it asks with `list`
 * when it needs to. That keeps admission O(1) for idle clients instead of O(online users).
 */
export function welcomeLine(
  v: number,
  withDirectory: boolean,
  usersJson: () => string,
  peersJson: () => string,
): string {
  if (v < 2) return `{"type":"welcome","users":${usersJson()}}\n`;
  return `{"type":"welcome","v":2,"caps":${SERVER_CAPS_JSON},"users":{},"peers":${withDirectory ? peersJson() : '{}'}}\n`;
}

/** The answer to `list`: v1 `users`; v2 `peers` (with an empty `users`). */
export function usersLine(v: number, usersJson: () => string, peersJson: () => string): string {
  if (v < 2) return `{"type":"users","users":${usersJson()}}\n`;
  return `{"type":"users","users":{},"peers":${peersJson()}}\n`;
}

/**
 * JSON with every non-ASCII character escaped as \uXXXX: equivalent JSON, and it keeps
 * every line the server writes pure ASCII, so sockets can be written as latin1 (no UTF-8
 * encoding pass) and queued-byte accounting is exact.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function errorLine(code: string, text: string, ref?: string): string {
  const error: Record<string, string> = { type: 'error', code, text };
  if (ref !== undefined) error.ref = ref;
  return `${asciiJson(error)}\n`;
}

export function serverTextLine(text: string): string {
  return `{"type":"server","text":${asciiJson(text)}}\n`;
}

export function ackLine(id: string, queued = false): string {
  return queued ? `{"type":"ack","id":"${id}","queued":true}\n` : `{"type":"ack","id":"${id}"}\n`;
}

export const PONG_LINE = '{"type":"pong"}\n';

/** A frame error before the hello: the connection is not a client of ours, so it ends. */
export function asFatal(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) {
    return new ProtocolError(error.code, `${error.message} (before hello: closing)`, {
      fatal: true,
      cause: error,
    });
  }
  return new ProtocolError(ErrorCode.INTERNAL, 'internal error', { fatal: true, cause: error });
}

/** Best-effort message id of a rejected frame, for `error.ref` (only if it is a safe id). */
export function idOf(line: Uint8Array): string | undefined {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');
  const match = /"id"\s*:\s*"([A-Za-z0-9_-]{1,64})"/.exec(text);
  return match?.[1];
}
