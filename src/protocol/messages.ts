import { base64DecodedLength } from './base64.js';
import { ErrorCode, ProtocolError } from './errors.js';
import {
  isValidName,
  optionalMessageId,
  optionalString,
  requireBase64,
  requireName,
  requireString,
} from './fields.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, X25519_KEY_BYTES } from './limits.js';

/** The v1 envelope algorithm: static X25519 + HKDF-SHA256 + AES-256-GCM. */
export const ALG_V1 = 'X25519+AESGCM';

/** Frame types a client may send. */
export const ClientFrameType = {
  hello: 'hello',
  list: 'list',
  chat: 'chat',
  relay: 'relay',
} as const;
export type ClientFrameType = (typeof ClientFrameType)[keyof typeof ClientFrameType];

/** Frame types a server may send. */
export const ServerFrameType = {
  welcome: 'welcome',
  users: 'users',
  server: 'server',
  relay: 'relay',
  error: 'error',
  ack: 'ack',
} as const;
export type ServerFrameType = (typeof ServerFrameType)[keyof typeof ServerFrameType];

export interface HelloFrame {
  type: 'hello';
  user: string;
  /** X25519 public key, Base64 (32 bytes). */
  pub: string;
}
export interface ListFrame {
  type: 'list';
}
export interface ChatFrame {
  type: 'chat';
  text: string;
}
/** An end-to-end envelope addressed to `to`; the server treats it as opaque. */
export interface RelayFrame {
  type: 'relay';
  to: string;
  alg: string;
  /** Base64, 12 bytes. */
  nonce: string;
  /** Base64 of ciphertext || 16-byte tag. */
  cipher: string;
  /** Optional client message id, echoed in `ack` and `error.ref`. */
  id?: string;
}
export type ClientFrame = HelloFrame | ListFrame | ChatFrame | RelayFrame;

export type Directory = ReadonlyMap<string, string>;

export interface WelcomeFrame {
  type: 'welcome';
  users: Directory;
}
export interface UsersFrame {
  type: 'users';
  users: Directory;
}
export interface ServerTextFrame {
  type: 'server';
  text: string;
}
/** A relay as delivered: `from` is set by the server to the sender's session name. */
export interface RelayDelivery extends RelayFrame {
  from: string;
}
export interface ErrorFrame {
  type: 'error';
  code?: string;
  text: string;
  /** Message id of the frame that failed, when it had one. */
  ref?: string;
}
export interface AckFrame {
  type: 'ack';
  id: string;
}
export type ServerFrame =
  | WelcomeFrame
  | UsersFrame
  | ServerTextFrame
  | RelayDelivery
  | ErrorFrame
  | AckFrame;

/**
 * Validates the envelope part of a relay (the fields the server forwards).
 * v1 (`X25519+AESGCM`) and later algorithms share the shape: 12-byte nonce, ciphertext
 * with a 16-byte tag.
 */
function readRelay(frame: Record<string, unknown>): RelayFrame {
  const to = requireName(frame, 'to');
  const alg = requireString(frame, 'alg');
  if (!/^[A-Za-z0-9+._-]{1,32}$/.test(alg)) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "alg" is not a valid algorithm name');
  }
  const nonce = requireBase64(frame, 'nonce', GCM_NONCE_BYTES);
  const cipher = requireBase64(frame, 'cipher', { min: GCM_TAG_BYTES });
  const relay: RelayFrame = { type: 'relay', to, alg, nonce, cipher };
  const id = optionalMessageId(frame);
  if (id !== undefined) relay.id = id;
  return relay;
}

/**
 * Validates a decoded frame sent by a client (see docs/PROTOCOL.md) and returns a fresh
 * object holding only the known fields. Unknown extra fields are ignored.
 * @throws ProtocolError `E_UNKNOWN_TYPE`, `E_BAD_FIELD` or `E_BAD_NAME` (never fatal).
 */
export function parseClientFrame(frame: Record<string, unknown>): ClientFrame {
  switch (frame.type) {
    case 'relay':
      return readRelay(frame);
    case 'hello':
      return {
        type: 'hello',
        user: requireName(frame, 'user'),
        pub: requireBase64(frame, 'pub', X25519_KEY_BYTES),
      };
    case 'list':
      return { type: 'list' };
    case 'chat':
      return { type: 'chat', text: requireString(frame, 'text') };
    default:
      throw new ProtocolError(
        ErrorCode.UNKNOWN_TYPE,
        typeof frame.type === 'string' ? 'unknown frame type' : 'frame has no string "type"',
      );
  }
}

/**
 * Reads a `users` map: name → Base64 X25519 key. Entries with an invalid name or key are
 * skipped and counted, so one bad entry from a buggy server does not hide the others.
 */
export function readDirectory(value: unknown): { users: Map<string, string>; skipped: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "users" must be an object');
  }
  const users = new Map<string, string>();
  let skipped = 0;
  for (const [name, pub] of Object.entries(value)) {
    if (isValidName(name) && typeof pub === 'string' && base64DecodedLength(pub) === 32) {
      users.set(name, pub);
    } else {
      skipped++;
    }
  }
  return { users, skipped };
}

/** A parsed server frame, or `unknown` for frame types this version does not know. */
export type ParsedServerFrame = ServerFrame | { type: 'unknown'; rawType: string };

/**
 * Validates a decoded frame sent by a server. Unknown frame types are returned as
 * `{ type: 'unknown' }` so newer servers do not break older clients.
 * @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME` when a known frame is malformed.
 */
export function parseServerFrame(frame: Record<string, unknown>): ParsedServerFrame {
  switch (frame.type) {
    case 'relay':
      return { ...readRelay(frame), from: requireName(frame, 'from') };
    case 'welcome':
    case 'users':
      return { type: frame.type, users: readDirectory(frame.users).users };
    case 'server':
      return { type: 'server', text: requireString(frame, 'text') };
    case 'error': {
      const error: ErrorFrame = { type: 'error', text: optionalString(frame, 'text') ?? '' };
      const code = optionalString(frame, 'code');
      if (code !== undefined) error.code = code;
      const ref = optionalString(frame, 'ref');
      if (ref !== undefined) error.ref = ref;
      return error;
    }
    case 'ack': {
      const id = optionalMessageId(frame);
      if (id === undefined) throw new ProtocolError(ErrorCode.BAD_FIELD, 'ack without id');
      return { type: 'ack', id };
    }
    default:
      if (typeof frame.type !== 'string') {
        throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, 'frame has no string "type"');
      }
      return { type: 'unknown', rawType: frame.type };
  }
}

/**
 * Serializes a relay for delivery. All fields were validated to safe character sets
 * (names, algorithm, Base64, ids), so plain concatenation produces valid JSON without
 * escaping and without re-serializing the sender's object.
 */
export function encodeRelayDelivery(from: string, relay: RelayFrame): string {
  const id = relay.id === undefined ? '' : `,"id":"${relay.id}"`;
  return `{"type":"relay","from":"${from}","to":"${relay.to}","alg":"${relay.alg}","nonce":"${relay.nonce}","cipher":"${relay.cipher}"${id}}\n`;
}
