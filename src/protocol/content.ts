/**
 * What end-to-end encrypted messages carry inside their encryption: the content codecs of
 * pairwise (ratchet) and room messages, type, parser and encoder side by side. The server
 * never sees any of this; both ends are clients, so every parser treats its input as
 * written by a peer that may be hostile. (v1 envelopes carry bare text, as the seed
 * protocol does: no content codec.)
 */
import { base64DecodedLength, fromBase64, toBase64 } from './base64.js';
import { ErrorCode, ProtocolError } from './errors.js';
import { isValidRoom } from './fields.js';
import { type FileContent, readFileContent } from './files/file-descriptor.js';
import type { SenderKeyDistribution } from './sender-keys.js';

/** The latest instant a JavaScript Date can represent (ECMA-262 §21.4.1.1). */
const MAX_DATE_MS = 8.64e15;

/** A line of text, or a `/me` action. */
export interface TextContent {
  t: 'text' | 'action';
  text: string;
  /**
   * When the sender typed it (ms since the epoch, the sender's clock), inside the
   * encryption: a message kept for an offline friend shows when it was sent, never a time
   * the server could set. Optional (older clients neither send nor read it).
   */
  ts?: number;
}

/** A member's room sender key, handed to one other member over the pairwise ratchet. */
export interface SenderKeyContent {
  t: 'sk';
  room: string;
  keyId: number;
  iteration: number;
  /** Base64, 32 bytes. */
  chainKey: string;
  /** Base64, 32 bytes (Ed25519 public key). */
  signingKey: string;
}

/** What a pairwise (ratchet) message carries: a text, an action, or a room sender key. */
export type PairwiseContent = TextContent | SenderKeyContent | FileContent;

/** What a room message carries: a text, an action, or a file offer. */
export type RoomContent = TextContent | FileContent;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const isUint32 = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff;

const isKey32 = (value: unknown): value is string =>
  typeof value === 'string' && base64DecodedLength(value) === 32;

/** The JSON text of a pairwise content (the ratchet encrypts its UTF-8). */
export function encodePairwiseContent(content: PairwiseContent): string {
  return JSON.stringify(content);
}

/**
 * Reads the decrypted text of a pairwise message. Only the known shapes are accepted,
 * each with every field checked (a sender key's keys are 32-byte Base64), into a fresh
 * object.
 * @throws ProtocolError `E_BAD_FIELD` for anything else.
 */
export function decodePairwiseContent(text: string): PairwiseContent {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'message content is not JSON');
  }
  if (typeof value !== 'object' || value === null)
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'message content is not an object');
  if ((value.t === 'text' || value.t === 'action') && typeof value.text === 'string') {
    const ts = value.ts;
    // A time a Date can hold (a peer's 9e15 would render as "Invalid Date"/NaN).
    return Number.isSafeInteger(ts) && (ts as number) > 0 && (ts as number) <= MAX_DATE_MS
      ? { t: value.t, text: value.text, ts: ts as number }
      : { t: value.t, text: value.text };
  }
  if (value.t === 'file') return readFileContent(value);
  if (value.t !== 'sk') throw new ProtocolError(ErrorCode.BAD_FIELD, 'unknown message content');
  if (
    !isValidRoom(value.room) ||
    !isUint32(value.keyId) ||
    !isUint32(value.iteration) ||
    !isKey32(value.chainKey) ||
    !isKey32(value.signingKey)
  ) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'a room key with malformed fields');
  }
  return {
    t: 'sk',
    room: value.room,
    keyId: value.keyId,
    iteration: value.iteration,
    chainKey: value.chainKey,
    signingKey: value.signingKey,
  };
}

/** The content handing `distribution` (our sender key for `room`) to one member. */
export function senderKeyContent(
  room: string,
  distribution: SenderKeyDistribution,
): SenderKeyContent {
  return {
    t: 'sk',
    room,
    keyId: distribution.keyId,
    iteration: distribution.iteration,
    chainKey: toBase64(distribution.chainKey),
    signingKey: toBase64(distribution.signingPublicKey),
  };
}

/**
 * The sender key a content hands over.
 * @throws ProtocolError `E_BAD_FIELD` when its keys are not 32-byte Base64 (never for a
 * content {@link decodePairwiseContent} returned).
 */
export function senderKeyOf(content: SenderKeyContent): SenderKeyDistribution {
  return {
    keyId: content.keyId,
    iteration: content.iteration,
    chainKey: fromBase64(content.chainKey, 'chainKey', 32),
    signingPublicKey: fromBase64(content.signingKey, 'signingKey', 32),
  };
}

/** The plaintext bytes of a room message (UTF-8 JSON). */
export function encodeRoomContent(content: RoomContent): Uint8Array {
  if (content.t === 'file') return encoder.encode(JSON.stringify(content));
  return encoder.encode(JSON.stringify({ t: content.t, text: content.text }));
}

/**
 * Reads the decrypted bytes of a room message: a text (an action when `t` is `action`), a
 * file offer (`t` is `file`, every field checked), or
 * undefined for content without a text, which is not shown (newer clients may send more).
 * @throws ProtocolError `E_BAD_FIELD` when the bytes are not UTF-8 JSON.
 */
export function decodeRoomContent(bytes: Uint8Array): RoomContent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'the content is not JSON text');
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if ((value as { t?: unknown }).t === 'file')
    return readFileContent(value as Record<string, unknown>);
  const { t, text } = value as { t?: unknown; text?: unknown };
  if (typeof text !== 'string') return undefined;
  return { t: t === 'action' ? 'action' : 'text', text };
}
