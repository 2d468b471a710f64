import { ErrorCode, ProtocolError } from './errors.js';
import { optionalMessageId, requireBase64, requireName, requireString } from './fields.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES } from './limits.js';

/** Room names: `#` followed by the user-name charset, 1-32 characters. */
const ROOM_PATTERN = /^#[A-Za-z0-9_.-]{1,32}$/;
/** Longest room password accepted (bytes of UTF-8). */
export const MAX_ROOM_PASSWORD_BYTES = 256;
/** Longest topic or MOTD. */
export const MAX_TOPIC_LENGTH = 300;
/** Longest sender-key header and signature carried by a room message (decoded bytes). */
export const MAX_ROOM_HEADER_BYTES = 256;
export const ROOM_SIGNATURE_BYTES = 64;

export function isValidRoom(room: unknown): room is string {
  return typeof room === 'string' && ROOM_PATTERN.test(room);
}

export function roomKey(room: string): string {
  return room.toLowerCase();
}

function badField(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, message);
}

function requireRoom(frame: Record<string, unknown>): string {
  const room = frame.room;
  if (!isValidRoom(room)) {
    throw new ProtocolError(
      ErrorCode.BAD_NAME,
      'field "room" must be # followed by 1-32 of A-Z a-z 0-9 _ . -',
    );
  }
  return room;
}

function optionalText(
  frame: Record<string, unknown>,
  field: string,
  max: number,
): string | undefined {
  const value = frame[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') badField(`field "${field}" must be a string`);
  if (new TextEncoder().encode(value).length > max)
    badField(`field "${field}" is longer than ${max} bytes`);
  return value;
}

export const ModerationAction = {
  op: 'op',
  deop: 'deop',
  kick: 'kick',
  ban: 'ban',
  unban: 'unban',
  password: 'password',
} as const;
export type ModerationAction = (typeof ModerationAction)[keyof typeof ModerationAction];

export type RoomClientFrame =
  | { type: 'join'; room: string; password?: string; id?: string }
  | { type: 'part'; room: string; id?: string }
  /** `after`: list rooms whose names sort after this one (the previous answer's `next`). */
  | { type: 'rooms'; after?: string; id?: string }
  | { type: 'who'; room: string; id?: string }
  | { type: 'topic'; room: string; text?: string; id?: string }
  | {
      type: 'moderate';
      room: string;
      action: ModerationAction;
      user?: string;
      /** ban: seconds; absent = permanent. */
      duration?: number;
      /** password: the new password; absent or empty clears it. */
      password?: string;
      reason?: string;
      id?: string;
    }
  | { type: 'motd'; text?: string; id?: string }
  | RoomMessageFrame;

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

const withId = <T extends object>(
  frame: Record<string, unknown>,
  value: T,
): T & { id?: string } => {
  const id = optionalMessageId(frame);
  return id === undefined ? value : { ...value, id };
};

/** Reads the room part of a room message (shared by client and server parsing). */
export function readRoomMessage(frame: Record<string, unknown>): RoomMessageFrame {
  const alg = requireString(frame, 'alg');
  if (!/^[A-Za-z0-9+._-]{1,32}$/.test(alg)) badField('field "alg" is not a valid algorithm name');
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

/**
 * Validates the room frames a client may send (protocol v2 with the `rooms` capability).
 * Returns undefined for non-room types.
 * @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`.
 */
export function parseRoomClientFrame(frame: Record<string, unknown>): RoomClientFrame | undefined {
  switch (frame.type) {
    case 'join': {
      const password = optionalText(frame, 'password', MAX_ROOM_PASSWORD_BYTES);
      return withId(frame, {
        type: 'join' as const,
        room: requireRoom(frame),
        ...(password === undefined ? {} : { password }),
      });
    }
    case 'part':
      return withId(frame, { type: 'part' as const, room: requireRoom(frame) });
    case 'rooms': {
      if (frame.after === undefined || frame.after === null)
        return withId(frame, { type: 'rooms' as const });
      if (!isValidRoom(frame.after)) badField('field "after" must be a room name');
      return withId(frame, { type: 'rooms' as const, after: frame.after });
    }
    case 'who':
      return withId(frame, { type: 'who' as const, room: requireRoom(frame) });
    case 'topic': {
      const text = optionalText(frame, 'text', MAX_TOPIC_LENGTH);
      return withId(frame, {
        type: 'topic' as const,
        room: requireRoom(frame),
        ...(text === undefined ? {} : { text }),
      });
    }
    case 'motd': {
      const text = optionalText(frame, 'text', MAX_TOPIC_LENGTH);
      return withId(frame, { type: 'motd' as const, ...(text === undefined ? {} : { text }) });
    }
    case 'moderate': {
      const action = frame.action;
      if (typeof action !== 'string' || !Object.hasOwn(ModerationAction, action)) {
        badField('field "action" must be one of op, deop, kick, ban, unban, password');
      }
      const parsed: Extract<RoomClientFrame, { type: 'moderate' }> = {
        type: 'moderate',
        room: requireRoom(frame),
        action: action as ModerationAction,
      };
      if (action !== 'password') parsed.user = requireName(frame, 'user');
      if (frame.duration !== undefined && frame.duration !== null) {
        const duration = frame.duration;
        if (
          !Number.isSafeInteger(duration) ||
          (duration as number) < 1 ||
          (duration as number) > 10 * 365 * 86_400
        ) {
          badField('field "duration" must be a number of seconds (1 to 10 years)');
        }
        parsed.duration = duration as number;
      }
      const password = optionalText(frame, 'password', MAX_ROOM_PASSWORD_BYTES);
      if (password !== undefined) parsed.password = password;
      const reason = optionalText(frame, 'reason', MAX_TOPIC_LENGTH);
      if (reason !== undefined) parsed.reason = reason;
      return withId(frame, parsed);
    }
    case 'roommsg':
      return readRoomMessage(frame);
    default:
      return undefined;
  }
}

/** A room member as the server lists it: directory entry plus role. */
export interface RoomMemberInfo {
  pub: string;
  v: number;
  idk?: string;
  sig?: string;
  caps?: string[];
  role?: 'owner' | 'op';
}

/** One row of a `rooms` answer. */
export interface RoomSummary {
  room: string;
  members: number;
  topic: string;
  password: boolean;
  lobby?: boolean;
}

export type RoomServerFrame =
  | {
      type: 'joined';
      room: string;
      topic: string;
      members: Map<string, RoomMemberInfo>;
      /** This join created the room (the joiner owns it). */
      created?: boolean;
      /** The room has a password (said when this join created it with one). */
      password?: boolean;
      id?: string;
    }
  | { type: 'who'; room: string; members: Map<string, RoomMemberInfo>; id?: string }
  | {
      type: 'room';
      room: string;
      event: 'join' | 'part' | 'kick' | 'ban' | 'unban' | 'topic' | 'op' | 'deop' | 'password';
      user?: string;
      by?: string;
      text?: string;
      reason?: string;
      peer?: RoomMemberInfo;
    }
  /** `next`: more rooms follow; ask with `{"type":"rooms","after":next}`. */
  | { type: 'rooms'; rooms: RoomSummary[]; next?: string }
  | (RoomMessageFrame & { from: string })
  | { type: 'motd'; text: string }
  /** Room messages the server did not queue for you while your connection was not reading. */
  | { type: 'dropped'; room: string; messages: number };

const ROOM_EVENTS = new Set([
  'join',
  'part',
  'kick',
  'ban',
  'unban',
  'topic',
  'op',
  'deop',
  'password',
]);

function readMember(
  value: unknown,
  readPeer: (entry: unknown) => Omit<RoomMemberInfo, 'role'> | undefined,
): RoomMemberInfo | undefined {
  const peer = readPeer(value);
  if (!peer) return undefined;
  const role = (value as Record<string, unknown>).role;
  return role === 'owner' || role === 'op' ? { ...peer, role } : peer;
}

function readMembers(
  value: unknown,
  readPeer: (entry: unknown) => Omit<RoomMemberInfo, 'role'> | undefined,
): Map<string, RoomMemberInfo> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField('field "members" must be an object');
  const members = new Map<string, RoomMemberInfo>();
  for (const [name, entry] of Object.entries(value)) {
    const member = /^[A-Za-z0-9_.-]{1,32}$/.test(name) ? readMember(entry, readPeer) : undefined;
    if (member) members.set(name, member);
  }
  return members;
}

function optionalStr(frame: Record<string, unknown>, field: string): string | undefined {
  const value = frame[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Validates the room frames a server sends; undefined for other types. `readPeer` reads a
 * directory entry (server-frames.ts `readPeerInfo`), passed in to avoid an import cycle.
 * @throws ProtocolError `E_BAD_FIELD` / `E_BAD_NAME`.
 */
export function parseRoomServerFrame(
  frame: Record<string, unknown>,
  readPeer: (entry: unknown) => Omit<RoomMemberInfo, 'role'> | undefined,
): RoomServerFrame | undefined {
  // Read `id` only for the room frames: a newer server's frame type may carry an `id` of
  // another shape and must still come back as `unknown`, not as an error.
  const withRef = <T extends object>(value: T) => {
    const id = optionalMessageId(frame);
    return id === undefined ? value : { ...value, id };
  };
  switch (frame.type) {
    case 'joined':
      return withRef({
        type: 'joined' as const,
        room: requireRoom(frame),
        topic: optionalStr(frame, 'topic') ?? '',
        members: readMembers(frame.members, readPeer),
        ...(frame.created === true ? { created: true } : {}),
        ...(frame.password === true ? { password: true } : {}),
      });
    case 'who':
      return withRef({
        type: 'who' as const,
        room: requireRoom(frame),
        members: readMembers(frame.members, readPeer),
      });
    case 'room': {
      const event = frame.event;
      if (typeof event !== 'string' || !ROOM_EVENTS.has(event)) badField('unknown room event');
      const parsed: Extract<RoomServerFrame, { type: 'room' }> = {
        type: 'room',
        room: requireRoom(frame),
        event: event as Extract<RoomServerFrame, { type: 'room' }>['event'],
      };
      if (frame.user !== undefined) parsed.user = requireName(frame, 'user');
      if (frame.by !== undefined) parsed.by = requireName(frame, 'by');
      const text = optionalStr(frame, 'text');
      if (text !== undefined) parsed.text = text;
      const reason = optionalStr(frame, 'reason');
      if (reason !== undefined) parsed.reason = reason;
      if (frame.peer !== undefined) {
        const peer = readMember(frame.peer, readPeer);
        if (peer) parsed.peer = peer;
      }
      return parsed;
    }
    case 'rooms': {
      if (!Array.isArray(frame.rooms)) badField('field "rooms" must be an array');
      const rooms = (frame.rooms as unknown[]).flatMap((entry) => {
        if (typeof entry !== 'object' || entry === null) return [];
        const r = entry as Record<string, unknown>;
        if (!isValidRoom(r.room) || !Number.isSafeInteger(r.members)) return [];
        return [
          {
            room: r.room,
            members: r.members as number,
            topic: typeof r.topic === 'string' ? r.topic : '',
            password: r.password === true,
            ...(r.lobby === true ? { lobby: true } : {}),
          },
        ];
      });
      return isValidRoom(frame.next)
        ? { type: 'rooms', rooms, next: frame.next }
        : { type: 'rooms', rooms };
    }
    case 'dropped': {
      const messages = frame.messages;
      if (!Number.isSafeInteger(messages) || (messages as number) < 1)
        badField('field "messages" must be a positive integer');
      return { type: 'dropped', room: requireRoom(frame), messages: messages as number };
    }
    case 'roommsg':
      return { ...readRoomMessage(frame), from: requireName(frame, 'from') };
    case 'motd':
      return { type: 'motd', text: optionalStr(frame, 'text') ?? '' };
    default:
      return undefined;
  }
}
