import { base64DecodedLength } from './base64.js';
import { ErrorCode, ProtocolError } from './errors.js';
import {
  isValidName,
  optionalMessageId,
  optionalString,
  readCaps,
  requireBase64,
  requireName,
  requireString,
} from './fields.js';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from './identity.js';
import { X25519_KEY_BYTES } from './limits.js';
import {
  type ErrorFrame,
  type PeerInfo,
  type PresenceFrame,
  type RelayDelivery,
  readRelay,
  readVersion,
  type ServerFrame,
  type UsersFrame,
  type WelcomeFrame,
} from './messages.js';
import { readBundle, readPrekeyCount } from './prekey-frames.js';
import { parseRoomServerFrame, type RoomServerFrame } from './room-frames.js';

/**
 * Reads a v2 `peers` map (name → PeerInfo). Invalid entries are skipped and counted, like
 * {@link readDirectory}.
 */
export function readPeers(value: unknown): { peers: Map<string, PeerInfo>; skipped: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "peers" must be an object');
  }
  const peers = new Map<string, PeerInfo>();
  let skipped = 0;
  for (const [name, entry] of Object.entries(value)) {
    const peer = isValidName(name) ? readPeerInfo(entry) : undefined;
    if (peer) peers.set(name, peer);
    else skipped++;
  }
  return { peers, skipped };
}

/** Reads one directory entry; undefined when malformed. */
export function readPeerInfo(entry: unknown): PeerInfo | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const record = entry as Record<string, unknown>;
  try {
    const peer: PeerInfo = {
      pub: requireBase64(record, 'pub', X25519_KEY_BYTES),
      v: readVersion(record.v),
    };
    if (record.idk !== undefined) peer.idk = requireBase64(record, 'idk', ED25519_PUBLIC_KEY_BYTES);
    if (record.sig !== undefined) peer.sig = requireBase64(record, 'sig', ED25519_SIGNATURE_BYTES);
    if (record.caps !== undefined) peer.caps = readCaps(record.caps);
    return peer;
  } catch (error) {
    if (error instanceof ProtocolError) return undefined;
    throw error;
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
export type ParsedServerFrame =
  | ServerFrame
  | RoomServerFrame
  | { type: 'unknown'; rawType: string };

/**
 * Validates a decoded frame sent by a server. Unknown frame types are returned as
 * `{ type: 'unknown' }` so newer servers do not break older clients.
 * @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME` when a known frame is malformed.
 */
export function parseServerFrame(frame: Record<string, unknown>): ParsedServerFrame {
  switch (frame.type) {
    case 'relay': {
      const delivery: RelayDelivery = { ...readRelay(frame), from: requireName(frame, 'from') };
      const seq = frame.seq;
      if (seq !== undefined) {
        if (!Number.isSafeInteger(seq) || (seq as number) < 0) {
          throw new ProtocolError(
            ErrorCode.BAD_FIELD,
            'field "seq" must be a non-negative integer',
          );
        }
        delivery.seq = seq as number;
      }
      return delivery;
    }
    case 'bundle':
      return readBundle(frame);
    case 'prekeys':
      return readPrekeyCount(frame);
    case 'welcome': {
      const welcome: WelcomeFrame = {
        type: 'welcome',
        users: readDirectory(frame.users).users,
        v: readVersion(frame.v),
        caps: readCaps(frame.caps),
      };
      if (frame.peers !== undefined) welcome.peers = readPeers(frame.peers).peers;
      return welcome;
    }
    case 'users': {
      const users: UsersFrame = { type: 'users', users: readDirectory(frame.users).users };
      if (frame.peers !== undefined) users.peers = readPeers(frame.peers).peers;
      return users;
    }
    case 'presence': {
      const event = frame.event;
      if (event !== 'join' && event !== 'leave') {
        throw new ProtocolError(ErrorCode.BAD_FIELD, 'field "event" must be join or leave');
      }
      const presence: PresenceFrame = { type: 'presence', event, user: requireName(frame, 'user') };
      if (event === 'join') {
        const peer = readPeerInfo(frame.peer);
        if (!peer)
          throw new ProtocolError(ErrorCode.BAD_FIELD, 'presence join without a valid peer');
        presence.peer = peer;
      }
      return presence;
    }
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
    case 'pong':
      return { type: 'pong' };
    case 'ack': {
      const id = optionalMessageId(frame);
      if (id === undefined) throw new ProtocolError(ErrorCode.BAD_FIELD, 'ack without id');
      return frame.queued === true ? { type: 'ack', id, queued: true } : { type: 'ack', id };
    }
    default: {
      const room = parseRoomServerFrame(frame, readPeerInfo);
      if (room) return room;
      if (typeof frame.type !== 'string') {
        throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, 'frame has no string "type"');
      }
      return { type: 'unknown', rawType: frame.type };
    }
  }
}
