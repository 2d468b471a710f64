import {
  ALG_ROOM,
  ALG_ROOM_RN,
  Capability,
  decodeRoomContent,
  ErrorCode,
  encodeRoomContent,
  type FileContent,
  fromBase64,
  isRoomAlg,
  nameKey,
  openRoomMessage,
  ProtocolError,
  type RoomAlg,
  type RoomContent,
  sealRoomMessage,
  toBase64,
} from '../../protocol/index.js';
import type { RoomLimits } from './room-limits.js';
import type { JoinedRoom, ReceivedChain, RoomMessage } from './room-state.js';

/** Messages kept per room while their sender's key has not arrived. */
const MAX_WAITING = 256;

/**
 * The envelope for a room: a random nonce when every member shown (but us) opens it, else
 * the derived one all can read. (Our chains live in memory only, never restored: either is
 * safe from nonce reuse.)
 */
function roomAlg(room: JoinedRoom, self: string): RoomAlg {
  const others = [...room.members.values()].filter((m) => nameKey(m.name) !== nameKey(self));
  return others.every((m) => m.info.caps?.includes(Capability.randomNonce))
    ? ALG_ROOM_RN
    : ALG_ROOM;
}

/** The `roommsg` frame for a content (a text, an action, a file offer) under our current chain. */
export function sealRoomFrame(
  room: JoinedRoom,
  self: string,
  content: RoomContent,
  id: string,
): Record<string, unknown> {
  const body = encodeRoomContent(content);
  const sealed = sealRoomMessage(room.own, room.name, self, body, { alg: roomAlg(room, self) });
  return {
    type: 'roommsg',
    room: room.name,
    alg: sealed.alg,
    header: toBase64(sealed.header),
    nonce: toBase64(sealed.nonce),
    cipher: toBase64(sealed.cipher),
    sig: toBase64(sealed.signature),
    id,
  };
}

export type OpenedRoomMessage =
  | { kind: 'text'; text: string; action: boolean; chain: ReceivedChain }
  /** A file offer (its descriptor, every field checked). */
  | { kind: 'file'; content: FileContent; chain: ReceivedChain }
  /** No key for it yet: kept in `room.waiting` until one arrives. */
  | { kind: 'waiting' }
  /** A replay, or content we do not show. */
  | { kind: 'ignored' }
  | { kind: 'failed'; code: string; reason: string };

/**
 * Opens a room message with the chain its sender handed us (signature first: members
 * cannot forge each other; replays are refused by the chain).
 */
export function openRoomFrame(
  room: JoinedRoom,
  message: RoomMessage,
  limits: RoomLimits,
  now: number,
): OpenedRoomMessage {
  let plain: Uint8Array;
  let chain: ReceivedChain | undefined;
  try {
    if (!isRoomAlg(message.alg))
      throw new ProtocolError(ErrorCode.BAD_FIELD, `unsupported algorithm "${message.alg}"`);
    const header = fromBase64(message.header, 'header');
    const keyId =
      header.length === 9 ? new DataView(header.buffer, header.byteOffset).getUint32(1) : -1;
    const chainKey = `${nameKey(message.from)}|${keyId}`;
    chain = room.received.get(chainKey);
    if (!chain) {
      limits.hold(room, message, MAX_WAITING);
      return { kind: 'waiting' };
    }
    limits.touch(room, chainKey);
    plain = openRoomMessage(
      chain.key,
      room.name,
      message.from,
      {
        alg: message.alg,
        header,
        nonce: fromBase64(message.nonce, 'nonce', 12),
        cipher: fromBase64(message.cipher, 'cipher'),
        signature: fromBase64(message.sig, 'sig', 64),
      },
      now,
    );
    limits.afterOpen(chain);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    if (error.code === ErrorCode.RATCHET_DUPLICATE) return { kind: 'ignored' };
    return { kind: 'failed', code: error.code, reason: error.message };
  }
  let content: RoomContent | undefined;
  try {
    content = decodeRoomContent(plain);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { kind: 'failed', code: error.code, reason: error.message };
  }
  if (!content) return { kind: 'ignored' };
  if (content.t === 'file') return { kind: 'file', content, chain };
  return { kind: 'text', text: content.text, action: content.t === 'action', chain };
}
