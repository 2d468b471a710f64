import { ErrorCode, ProtocolError } from './errors.js';
import {
  optionalMessageId,
  readCaps,
  requireBase64,
  requireName,
  requireString,
} from './fields.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './identity.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, X25519_KEY_BYTES } from './limits.js';
import {
  type BundleFrame,
  type BundleRequestFrame,
  type FetchedFrame,
  type PrekeyCountFrame,
  type PrekeysUploadFrame,
  readBundleRequest,
  readFetched,
  readPrekeysUpload,
  readSignedPrekeyUpload,
  type SignedPrekeyUpload,
} from './prekey-frames.js';
import { parseRoomClientFrame, type RoomClientFrame } from './room-frames.js';

/** Largest ratchet header a relay may carry (decoded bytes). */
export const MAX_RELAY_HEADER_BYTES = 512;

/** The v1 envelope algorithm: static X25519 + HKDF-SHA256 + AES-256-GCM. */
export const ALG_V1 = 'X25519+AESGCM';

/** Frame types a client may send. */
export const ClientFrameType = {
  hello: 'hello',
  list: 'list',
  chat: 'chat',
  relay: 'relay',
  ping: 'ping',
  prekeys: 'prekeys',
  bundle: 'bundle',
  fetched: 'fetched',
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
  presence: 'presence',
  pong: 'pong',
  bundle: 'bundle',
  prekeys: 'prekeys',
} as const;
export type ServerFrameType = (typeof ServerFrameType)[keyof typeof ServerFrameType];

export interface HelloFrame {
  type: 'hello';
  user: string;
  /** X25519 public key, Base64 (32 bytes). */
  pub: string;
  /** Protocol version: absent or 1 for seed clients, 2 for identity-proving clients. */
  v: number;
  /** v2 capabilities (see hello.ts `Capability`). */
  caps: string[];
  /** v2: Ed25519 identity key, Base64 (32 bytes). */
  idk?: string;
  /** v2: identity signature over the X25519 key, Base64 (64 bytes). */
  pubsig?: string;
  /** v2: identity signature over the TLS exporter and the name, Base64 (64 bytes). */
  proof?: string;
  /**
   * v2 with `spk`: the current signed prekey, stored with the hello so it is there before
   * anyone sees the new session in the directory (same shape as the `prekeys` upload).
   */
  spk?: SignedPrekeyUpload;
}
export interface ListFrame {
  type: 'list';
}
/** v2 keepalive; the server answers `pong`. */
export interface PingFrame {
  type: 'ping';
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
  /** v2 ratchet header (Base64, opaque to the server). */
  header?: string;
}
export type ClientFrame =
  | HelloFrame
  | ListFrame
  | ChatFrame
  | RelayFrame
  | PingFrame
  | PrekeysUploadFrame
  | BundleRequestFrame
  | FetchedFrame
  | RoomClientFrame;

export type Directory = ReadonlyMap<string, string>;

/** What the server publishes about an online user (v2 directory entry). */
export interface PeerInfo {
  pub: string;
  /** 1 = seed/legacy client (no identity), 2 = identity-proving client. */
  v: number;
  idk?: string;
  sig?: string;
  caps?: string[];
}

export interface WelcomeFrame {
  type: 'welcome';
  users: Directory;
  /** Server protocol version (absent = 1). */
  v: number;
  caps: string[];
  /** v2 directory with identity keys (absent from v1 servers). */
  peers?: ReadonlyMap<string, PeerInfo>;
}
export interface UsersFrame {
  type: 'users';
  users: Directory;
  peers?: ReadonlyMap<string, PeerInfo>;
}
/** v2 presence delta: a user came online (or changed keys), or went offline. */
export interface PresenceFrame {
  type: 'presence';
  event: 'join' | 'leave';
  user: string;
  peer?: PeerInfo;
}
export interface ServerTextFrame {
  type: 'server';
  text: string;
}
/** A relay as delivered: `from` is set by the server to the sender's session name. */
export interface RelayDelivery extends RelayFrame {
  from: string;
  /** Set on messages stored while the recipient was offline: acknowledge with `fetched`. */
  seq?: number;
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
  /** True when the recipient was offline and the server stored the message for later. */
  queued?: boolean;
}
export type ServerFrame =
  | WelcomeFrame
  | UsersFrame
  | ServerTextFrame
  | RelayDelivery
  | ErrorFrame
  | AckFrame
  | PresenceFrame
  | BundleFrame
  | PrekeyCountFrame
  | PongFrame;

/** Answer to a v2 `ping` (keepalive). */
export interface PongFrame {
  type: 'pong';
}

/**
 * Validates the envelope part of a relay (the fields the server forwards).
 * v1 (`X25519+AESGCM`) and later algorithms share the shape: 12-byte nonce, ciphertext
 * with a 16-byte tag.
 */
export function readRelay(frame: Record<string, unknown>): RelayFrame {
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
  if (frame.header !== undefined && frame.header !== null) {
    relay.header = requireBase64(frame, 'header', { min: 1, max: MAX_RELAY_HEADER_BYTES });
  }
  return relay;
}

export function readVersion(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > 1000) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "v" must be a small positive integer');
  }
  return value as number;
}

function readHello(frame: Record<string, unknown>): HelloFrame {
  const hello: HelloFrame = {
    type: 'hello',
    user: requireName(frame, 'user'),
    pub: requireBase64(frame, 'pub', X25519_KEY_BYTES),
    v: readVersion(frame.v),
    caps: readCaps(frame.caps),
  };
  if (hello.v >= 2) {
    hello.idk = requireBase64(frame, 'idk', ED25519_PUBLIC_KEY_BYTES);
    hello.pubsig = requireBase64(frame, 'pubsig', ED25519_SIGNATURE_BYTES);
    hello.proof = requireBase64(frame, 'proof', ED25519_SIGNATURE_BYTES);
    if (frame.spk !== undefined && frame.spk !== null)
      hello.spk = readSignedPrekeyUpload(frame.spk);
  }
  return hello;
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
      return readHello(frame);
    case 'list':
      return { type: 'list' };
    case 'ping':
      return { type: 'ping' };
    case 'prekeys':
      return readPrekeysUpload(frame);
    case 'bundle':
      return readBundleRequest(frame);
    case 'fetched':
      return readFetched(frame);
    case 'chat':
      return { type: 'chat', text: requireString(frame, 'text') };
    default: {
      const room = parseRoomClientFrame(frame);
      if (room) return room;
      throw new ProtocolError(
        ErrorCode.UNKNOWN_TYPE,
        typeof frame.type === 'string' ? 'unknown frame type' : 'frame has no string "type"',
      );
    }
  }
}

/**
 * Serializes a relay for delivery. All fields were validated to safe character sets
 * (names, algorithm, Base64, ids), so plain concatenation produces valid JSON without
 * escaping and without re-serializing the sender's object.
 */
export function encodeRelayDelivery(from: string, relay: RelayFrame, seq?: number): string {
  const id = relay.id === undefined ? '' : `,"id":"${relay.id}"`;
  const header = relay.header === undefined ? '' : `,"header":"${relay.header}"`;
  const stored = seq === undefined ? '' : `,"seq":${seq}`;
  return `{"type":"relay","from":"${from}","to":"${relay.to}","alg":"${relay.alg}"${header},"nonce":"${relay.nonce}","cipher":"${relay.cipher}"${id}${stored}}\n`;
}
