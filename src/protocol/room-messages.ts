import { requireAlg, requireBase64, requireName, requireRoom, withId } from './fields.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, MAX_ROOM_HEADER_BYTES } from './limits.js';

/**
 * Room messages (`roommsg`): sender-key envelopes a member sends to a room (C→S) and the
 * server fans out to the other members with `from` set (S→C). The envelope stays opaque:
 * the server reads only the room and checks membership.
 */

/** Ed25519 signature over a room message (decoded bytes). */
const ROOM_SIGNATURE_BYTES = 64;

/** A sender-key encrypted room message; the server checks membership and fans it out. */
export interface RoomMessageFrame {
  type: 'roommsg';
  room: string;
  alg: string;
  header: string;
  nonce: string;
  cipher: string;
  sig: string;
  id?: string;
}

/** A room message as delivered: `from` set by the server to the sender's session name. */
export type RoomMessageDelivery = RoomMessageFrame & { from: string };

/** Reads the room part of a room message (client and server frames). @throws `E_BAD_FIELD` / `E_BAD_NAME`. */
export function readRoomMessage(frame: Record<string, unknown>): RoomMessageFrame {
  const alg = requireAlg(frame);
  return withId(frame, {
    type: 'roommsg' as const,
    room: requireRoom(frame),
    alg,
    header: requireBase64(frame, 'header', { min: 1, max: MAX_ROOM_HEADER_BYTES }),
    nonce: requireBase64(frame, 'nonce', GCM_NONCE_BYTES),
    cipher: requireBase64(frame, 'cipher', { min: GCM_TAG_BYTES }),
    sig: requireBase64(frame, 'sig', ROOM_SIGNATURE_BYTES),
  });
}

/** Reads a delivered room message (S→C). */
export function readRoomMessageDelivery(frame: Record<string, unknown>): RoomMessageDelivery {
  return { ...readRoomMessage(frame), from: requireName(frame, 'from') };
}

/**
 * Serializes a room message for fan-out, once per message: every field was validated to a
 * safe character set, so concatenation yields valid JSON. `room` is the room's stored name.
 */
export function encodeRoomMessageDelivery(
  from: string,
  room: string,
  message: RoomMessageFrame,
): string {
  const id = message.id === undefined ? '' : `,"id":"${message.id}"`;
  return `{"type":"roommsg","room":"${room}","from":"${from}","alg":"${message.alg}","header":"${message.header}","nonce":"${message.nonce}","cipher":"${message.cipher}","sig":"${message.sig}"${id}}\n`;
}
