import { ErrorCode, ProtocolError } from './errors.js';
import {
  asciiJson,
  badField,
  ID_PATTERN_SOURCE,
  optionalBase64,
  optionalMessageId,
  optionalString,
  readCaps,
  readVersion,
  requireAlg,
  requireBase64,
  requireCount,
  requireName,
  requireString,
} from './fields.js';
import { decodeJsonLine } from './frame.js';
import { type KemPrekeyWire, readKemPrekey } from './kem-prekeys.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  MAX_RELAY_HEADER_BYTES,
  X25519_KEY_BYTES,
} from './limits.js';
import { readSignedPrekeyUpload, type SignedPrekeyUpload } from './prekeys.js';

/**
 * The core frames every session uses: hello, chat / server text, ping / pong, relay /
 * delivery / ack, error; and the capabilities v2 peers announce. Each frame's type, parser
 * and encoder sit side by side. (The directory frames — welcome, users, presence — are in
 * directory.ts.)
 */

/** The v1 envelope algorithm: static X25519 + HKDF-SHA256 + AES-256-GCM. */
export const ALG_V1 = 'X25519+AESGCM';

/** Capabilities a v2 client or server may announce in `caps`. */
export const Capability = {
  /** Push presence deltas (`presence` frames) instead of nothing. */
  presence: 'presence',
  /** Acks for relays carrying an `id`. */
  ack: 'ack',
  /** X3DH + Double Ratchet envelopes and prekey frames. */
  ratchet: 'ratchet',
  /** ping / pong keepalive. */
  ping: 'ping',
  /** Messages stored while offline are delivered at login (`relay` with `seq`, `fetched`). */
  mailbox: 'mailbox',
  /** Rooms and sender-key envelopes. */
  rooms: 'rooms',
  /**
   * Signed prekeys with a lifecycle: a client publishes a rotating signed prekey with an id
   * and creation time (`prekeys` upload `spk`); a server stores the current and previous
   * one and hands out the current one in bundles.
   */
  spk: 'spk',
  /**
   * Client to client: this client opens ratchet and room messages under a random nonce
   * (`X3DH+DR+AESGCM-RN`, `SK1+AESGCM-RN+ED25519`), so peers may send it them.
   */
  randomNonce: 'random-nonce',
  /**
   * Post-quantum session setup (PQXDH with ML-KEM-1024): a client publishes signed KEM
   * prekeys (`prekeys` upload `kem` / `kemlr`) and opens PQXDH inits; a server stores and
   * hands them out (bundle `kem`). Offered by servers whose line limit fits a KEM upload.
   */
  pq: 'pq',
  /**
   * End-to-end encrypted file transfer: the server keeps sealed chunks in its chunk store
   * (`fnew`, `fput`, `fstat`, `fget`, `fdone`, `fdel`; files/file-frames.ts). Offered by
   * servers whose line limit fits a chunk and that run a chunk store.
   */
  files: 'files',
  /**
   * Binary chunk mode of file transfer: sealed chunks travel as raw bytes after a short
   * header line (`fputb`, `fchunkb`) instead of Base64 inside JSON. Offered with `files`;
   * used in a direction only when both sides announced it (docs/PROTOCOL.md "Files").
   */
  fbin: 'fbin',
  /**
   * The server holds an `fget` for chunks not uploaded yet until they are (bounded), so a
   * sender may offer a file as soon as the announce is accepted and recipients download
   * alongside the upload. Offered with `files`; senders offer early only to servers with it.
   */
  fhold: 'fhold',
} as const;
export type Capability = (typeof Capability)[keyof typeof Capability];

/** Capabilities a server offers in its v2 welcome, in wire order. */
export const SERVER_CAPS: readonly Capability[] = [
  Capability.presence,
  Capability.ack,
  Capability.ping,
  Capability.ratchet,
  Capability.mailbox,
  Capability.rooms,
  Capability.spk,
  Capability.pq,
  Capability.files,
  Capability.fbin,
  Capability.fhold,
];

// --- hello (C→S, first frame) -------------------------------------------------------------

export interface HelloFrame {
  type: 'hello';
  user: string;
  /** X25519 public key, Base64 (32 bytes). */
  pub: string;
  /** Protocol version: absent or 1 for seed clients, 2 for identity-proving clients. */
  v: number;
  /** v2 capabilities (see {@link Capability}). */
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
  /** v2 with `pq`: the last-resort KEM prekey, stored with the hello like `spk`. */
  kemlr?: KemPrekeyWire;
}

/** Reads a hello. @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`. */
export function readHello(frame: Record<string, unknown>): HelloFrame {
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
    if (frame.kemlr !== undefined && frame.kemlr !== null)
      hello.kemlr = readKemPrekey(frame.kemlr, 'field "kemlr"');
  }
  return hello;
}

// --- list, chat / server, ping / pong ------------------------------------------------------

export interface ListFrame {
  type: 'list';
}
export interface ChatFrame {
  type: 'chat';
  text: string;
}
/** v2 keepalive; the server answers `pong`. */
export interface PingFrame {
  type: 'ping';
}
export interface ServerTextFrame {
  type: 'server';
  text: string;
}
/** Answer to a v2 `ping` (keepalive). */
export interface PongFrame {
  type: 'pong';
}

export function readChat(frame: Record<string, unknown>): ChatFrame {
  return { type: 'chat', text: requireString(frame, 'text') };
}

export function readServerText(frame: Record<string, unknown>): ServerTextFrame {
  return { type: 'server', text: requireString(frame, 'text') };
}

/** A `server` line (server-readable text, e.g. the `echo:` answer to `chat`). */
export function encodeServerText(text: string): string {
  return `{"type":"server","text":${asciiJson(text)}}\n`;
}

/** The `pong` line. */
export const PONG_LINE = '{"type":"pong"}\n';

// --- relay (C→S→C), ack --------------------------------------------------------------------

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

/** A relay as delivered: `from` is set by the server to the sender's session name. */
export interface RelayDelivery extends RelayFrame {
  from: string;
  /** Set on messages stored while the recipient was offline: acknowledge with `fetched`. */
  seq?: number;
}

/**
 * Validates the envelope part of a relay (the fields the server forwards).
 * v1 (`X25519+AESGCM`) and later algorithms share the shape: 12-byte nonce, ciphertext
 * with a 16-byte tag. @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`.
 */
export function readRelay(frame: Record<string, unknown>): RelayFrame {
  const relay: RelayFrame = {
    type: 'relay',
    to: requireName(frame, 'to'),
    alg: requireAlg(frame),
    nonce: requireBase64(frame, 'nonce', GCM_NONCE_BYTES),
    cipher: requireBase64(frame, 'cipher', { min: GCM_TAG_BYTES }),
  };
  const id = optionalMessageId(frame);
  if (id !== undefined) relay.id = id;
  const header = optionalBase64(frame, 'header', { min: 1, max: MAX_RELAY_HEADER_BYTES });
  if (header !== undefined) relay.header = header;
  return relay;
}

/** Reads a delivered relay (server → client). @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`. */
export function readRelayDelivery(frame: Record<string, unknown>): RelayDelivery {
  const delivery: RelayDelivery = { ...readRelay(frame), from: requireName(frame, 'from') };
  if (frame.seq !== undefined)
    delivery.seq = requireCount(frame, 'seq', 'must be a non-negative integer');
  return delivery;
}

/**
 * Serializes a relay for delivery, with `seq` when it comes from the mailbox. All fields
 * were validated to safe character sets (names, algorithm, Base64, ids), so plain
 * concatenation produces valid JSON without escaping and without re-serializing the
 * sender's object.
 */
export function encodeRelayDelivery(from: string, relay: RelayFrame, seq?: number): string {
  const id = relay.id === undefined ? '' : `,"id":"${relay.id}"`;
  const header = relay.header === undefined ? '' : `,"header":"${relay.header}"`;
  const stored = seq === undefined ? '' : `,"seq":${seq}`;
  return `{"type":"relay","from":"${from}","to":"${relay.to}","alg":"${relay.alg}"${header},"nonce":"${relay.nonce}","cipher":"${relay.cipher}"${id}${stored}}\n`;
}

/**
 * A delivery line kept in a mailbox, encoded again with its mailbox `seq`. The stored line
 * is read back with the client-side parser first, so a damaged row is refused here instead
 * of being forwarded. @throws ProtocolError when the stored line is not a valid delivery.
 */
export function encodeStoredDelivery(storedLine: string, seq: number): string {
  const delivery = readRelayDelivery(decodeJsonLine(Buffer.from(storedLine, 'latin1')));
  return encodeRelayDelivery(delivery.from, delivery, seq);
}

export interface AckFrame {
  type: 'ack';
  id: string;
  /** True when the recipient was offline and the server stored the message for later. */
  queued?: boolean;
  /**
   * A stored message was fetched: its recipient acknowledged it (`fetched`), as the server
   * reports it (sent to the sender if online; issue 15). Older clients read a plain ack.
   */
  fetched?: boolean;
}

export function readAck(frame: Record<string, unknown>): AckFrame {
  const id = optionalMessageId(frame);
  if (id === undefined) badField('ack without id');
  if (frame.fetched === true) return { type: 'ack', id, fetched: true };
  return frame.queued === true ? { type: 'ack', id, queued: true } : { type: 'ack', id };
}

/** Tells the sender that the recipient fetched its stored message `id`. */
export function encodeFetchedAck(id: string): string {
  return `{"type":"ack","id":"${id}","fetched":true}\n`;
}

/** The `ack` of a relay or room message carrying `id` (`queued`: stored for later). */
export function encodeAck(id: string, queued = false): string {
  return queued ? `{"type":"ack","id":"${id}","queued":true}\n` : `{"type":"ack","id":"${id}"}\n`;
}

// --- error (S→C) ---------------------------------------------------------------------------

export interface ErrorFrame {
  type: 'error';
  code?: string;
  text: string;
  /** Message id of the frame that failed, when it had one. */
  ref?: string;
}

export function readError(frame: Record<string, unknown>): ErrorFrame {
  const error: ErrorFrame = { type: 'error', text: optionalString(frame, 'text') ?? '' };
  const code = optionalString(frame, 'code');
  if (code !== undefined) error.code = code;
  const ref = optionalString(frame, 'ref');
  if (ref !== undefined) error.ref = ref;
  return error;
}

/** An `error` line with a stable code (errors.ts), a text and the failed frame's id. */
export function encodeError(code: ErrorCode, text: string, ref?: string): string {
  const error: Record<string, string> = { type: 'error', code, text };
  if (ref !== undefined) error.ref = ref;
  return `${asciiJson(error)}\n`;
}

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

const ID_IN_LINE = new RegExp(`"id"\\s*:\\s*"(${ID_PATTERN_SOURCE})"`);

/**
 * Best-effort message id of a line that failed to parse, for `error.ref` (only a safe id;
 * the line is read as latin1, so any bytes are fine).
 */
export function idOfLine(line: Uint8Array): string | undefined {
  return ID_IN_LINE.exec(latin1(line))?.[1];
}

const latin1 = (line: Uint8Array): string =>
  Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('latin1');

const FILE_IN_LINE = /"file"\s*:\s*"([0-9a-f]{32})"/;

/**
 * What an error about a dropped line names in `ref`: its message id ({@link idOfLine}), else
 * the file a file control line (`fstat`, `fdone`, `fdel`: no `id`) is about, so the client
 * knows which of its transfers lost a line.
 */
export function refOfLine(line: Uint8Array): string | undefined {
  const text = latin1(line);
  return ID_IN_LINE.exec(text)?.[1] ?? FILE_IN_LINE.exec(text)?.[1];
}
