import { encodePeersMap, type PeerInfo, readPeerInfo } from './directory.js';
import {
  asciiJson,
  badField,
  isValidName,
  isValidRoom,
  lenientString,
  optionalText,
  requireCount,
  requireName,
  requireRoom,
  withId,
} from './fields.js';
import { MAX_BAN_SECONDS, MAX_ROOM_PASSWORD_BYTES, MAX_TOPIC_LENGTH } from './limits.js';
import type { RoomMessageDelivery, RoomMessageFrame } from './room-messages.js';

/**
 * Room membership and settings (protocol v2, `rooms` capability): `join`, `part`, `who`,
 * `rooms`, `topic`, `motd`, `moderate` (C→S) and `joined`, `who`, `room` events, `rooms`
 * pages, `motd`, `dropped` (S→C). Room messages are in room-messages.ts.
 */

export const ModerationAction = {
  op: 'op',
  deop: 'deop',
  kick: 'kick',
  ban: 'ban',
  unban: 'unban',
  password: 'password',
} as const;
export type ModerationAction = (typeof ModerationAction)[keyof typeof ModerationAction];

export interface ModerateFrame {
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

/** Room frames a client may send, except room messages. */
export type RoomControlFrame =
  | { type: 'join'; room: string; password?: string; id?: string }
  | { type: 'part'; room: string; id?: string }
  /** `after`: list rooms whose names sort after this one (the previous answer's `next`). */
  | { type: 'rooms'; after?: string; id?: string }
  | { type: 'who'; room: string; id?: string }
  | { type: 'topic'; room: string; text?: string; id?: string }
  | ModerateFrame
  | { type: 'motd'; text?: string; id?: string };

/** Every room frame a client may send. */
export type RoomClientFrame = RoomControlFrame | RoomMessageFrame;

function readModerate(frame: Record<string, unknown>): ModerateFrame {
  const action = frame.action;
  if (typeof action !== 'string' || !Object.hasOwn(ModerationAction, action)) {
    badField('field "action" must be one of op, deop, kick, ban, unban, password');
  }
  const parsed: ModerateFrame = {
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
      (duration as number) > MAX_BAN_SECONDS
    )
      badField('field "duration" must be a number of seconds (1 to 10 years)');
    parsed.duration = duration as number;
  }
  const password = optionalText(frame, 'password', MAX_ROOM_PASSWORD_BYTES);
  if (password !== undefined) parsed.password = password;
  const reason = optionalText(frame, 'reason', MAX_TOPIC_LENGTH);
  if (reason !== undefined) parsed.reason = reason;
  return withId(frame, parsed);
}

/** A frame naming a room with an optional text field (read first: that is its order of checks). */
function roomWithText(
  frame: Record<string, unknown>,
  type: 'join' | 'topic',
  field: 'password' | 'text',
  maxBytes: number,
): RoomControlFrame {
  const value = optionalText(frame, field, maxBytes);
  const parsed = {
    type,
    room: requireRoom(frame),
    ...(value === undefined ? {} : { [field]: value }),
  };
  return withId(frame, parsed) as RoomControlFrame;
}

/** Parsers of the room control frames a client may send, by type. */
export const roomControlParsers: Record<
  RoomControlFrame['type'],
  (frame: Record<string, unknown>) => RoomControlFrame
> = {
  join: (frame) => roomWithText(frame, 'join', 'password', MAX_ROOM_PASSWORD_BYTES),
  part: (frame) => withId(frame, { type: 'part' as const, room: requireRoom(frame) }),
  rooms(frame) {
    if (frame.after === undefined || frame.after === null)
      return withId(frame, { type: 'rooms' as const });
    if (!isValidRoom(frame.after)) badField('field "after" must be a room name');
    return withId(frame, { type: 'rooms' as const, after: frame.after });
  },
  who: (frame) => withId(frame, { type: 'who' as const, room: requireRoom(frame) }),
  topic: (frame) => roomWithText(frame, 'topic', 'text', MAX_TOPIC_LENGTH),
  motd(frame) {
    const text = optionalText(frame, 'text', MAX_TOPIC_LENGTH);
    return withId(frame, { type: 'motd' as const, ...(text === undefined ? {} : { text }) });
  },
  moderate: readModerate,
};

// --- server → client --------------------------------------------------------------------------

/** A room member as the server lists it: directory entry plus role. */
export interface RoomMemberInfo extends PeerInfo {
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

const ROOM_EVENTS = [
  'join',
  'part',
  'kick',
  'ban',
  'unban',
  'topic',
  'op',
  'deop',
  'password',
] as const;
export type RoomEventKind = (typeof ROOM_EVENTS)[number];

export interface RoomEventFrame {
  type: 'room';
  room: string;
  event: RoomEventKind;
  user?: string;
  by?: string;
  text?: string;
  reason?: string;
  peer?: RoomMemberInfo;
}

export type RoomStatusFrame =
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
  | RoomEventFrame
  /** `next`: more rooms follow; ask with `{"type":"rooms","after":next}`. */
  | { type: 'rooms'; rooms: RoomSummary[]; next?: string }
  | { type: 'motd'; text: string }
  /** Room messages the server did not queue for you while your connection was not reading. */
  | { type: 'dropped'; room: string; messages: number };

/** Every room frame a server sends. */
export type RoomServerFrame = RoomStatusFrame | RoomMessageDelivery;

function readMember(value: unknown): RoomMemberInfo | undefined {
  const peer = readPeerInfo(value);
  if (!peer) return undefined;
  const role = (value as Record<string, unknown>).role;
  return role === 'owner' || role === 'op' ? { ...peer, role } : peer;
}

function readMembers(value: unknown): Map<string, RoomMemberInfo> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    badField('field "members" must be an object');
  const members = new Map<string, RoomMemberInfo>();
  for (const [name, entry] of Object.entries(value)) {
    const member = isValidName(name) ? readMember(entry) : undefined;
    if (member) members.set(name, member);
  }
  return members;
}

function readRoomSummaries(value: unknown): RoomSummary[] {
  if (!Array.isArray(value)) badField('field "rooms" must be an array');
  return (value as unknown[]).flatMap((entry) => {
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
}

/**
 * Parsers of the room frames a server sends, by type. `id` is read only for these frames:
 * a newer server's frame type may carry an `id` of another shape and must still come back
 * as `unknown`, not as an error.
 */
export const roomStatusParsers: Record<
  RoomStatusFrame['type'],
  (frame: Record<string, unknown>) => RoomStatusFrame
> = {
  joined: (frame) =>
    withId(frame, {
      type: 'joined' as const,
      room: requireRoom(frame),
      topic: lenientString(frame, 'topic') ?? '',
      members: readMembers(frame.members),
      ...(frame.created === true ? { created: true } : {}),
      ...(frame.password === true ? { password: true } : {}),
    }),
  who: (frame) =>
    withId(frame, {
      type: 'who' as const,
      room: requireRoom(frame),
      members: readMembers(frame.members),
    }),
  room(frame) {
    const event = frame.event;
    if (typeof event !== 'string' || !(ROOM_EVENTS as readonly string[]).includes(event))
      badField('unknown room event');
    const parsed: RoomEventFrame = {
      type: 'room',
      room: requireRoom(frame),
      event: event as RoomEventKind,
    };
    if (frame.user !== undefined) parsed.user = requireName(frame, 'user');
    if (frame.by !== undefined) parsed.by = requireName(frame, 'by');
    const text = lenientString(frame, 'text');
    if (text !== undefined) parsed.text = text;
    const reason = lenientString(frame, 'reason');
    if (reason !== undefined) parsed.reason = reason;
    if (frame.peer !== undefined) {
      const peer = readMember(frame.peer);
      if (peer) parsed.peer = peer;
    }
    return parsed;
  },
  rooms(frame) {
    const rooms = readRoomSummaries(frame.rooms);
    return isValidRoom(frame.next)
      ? { type: 'rooms', rooms, next: frame.next }
      : { type: 'rooms', rooms };
  },
  dropped(frame) {
    const messages = requireCount(frame, 'messages', 'must be a positive integer');
    if (messages < 1) badField('field "messages" must be a positive integer');
    return { type: 'dropped', room: requireRoom(frame), messages };
  },
  motd: (frame) => ({ type: 'motd', text: lenientString(frame, 'text') ?? '' }),
};

// --- encoders ---------------------------------------------------------------------------------
// Names, ids and roles are validated to safe character sets; free text goes through asciiJson;
// member JSON comes from directory.ts encodePeerInfo (or {@link encodeMemberInfo}).

const ref = (id: string | undefined) => (id === undefined ? '' : `,"id":"${id}"`);

/** A member's directory entry JSON with its role in the room (none for plain members). */
export function encodeMemberInfo(peerJson: string, role?: 'owner' | 'op' | 'admin'): string {
  return role === undefined ? peerJson : `${peerJson.slice(0, -1)},"role":"${role}"}`;
}

/** JSON of a room's member map from (name, {@link encodeMemberInfo}) pairs. */
export const encodeMembersMap: (entries: Iterable<readonly [string, string]>) => string =
  encodePeersMap;

/** The answer to a successful `join`. @param membersJson {@link encodeMembersMap}. */
export function encodeJoined(
  room: string,
  topic: string,
  membersJson: string,
  options: { created?: boolean; password?: boolean; id?: string | undefined } = {},
): string {
  const created = options.created
    ? `,"created":true${options.password ? ',"password":true' : ''}`
    : '';
  return `{"type":"joined","room":"${room}","topic":${asciiJson(topic)},"members":${membersJson}${created}${ref(options.id)}}\n`;
}

/** The answer to `who`. */
export function encodeWho(room: string, membersJson: string, id?: string): string {
  return `{"type":"who","room":"${room}","members":${membersJson}${ref(id)}}\n`;
}

/** A room event as the server writes it (`peer` as member JSON; `set` for `password`). */
export interface RoomEventLine {
  event: RoomEventKind;
  room: string;
  user?: string;
  peerJson?: string;
  text?: string;
  set?: boolean;
  by?: string;
  reason?: string;
}

/** A `room` event line (fields in a fixed order, absent ones left out). */
export function encodeRoomEvent(e: RoomEventLine): string {
  const user = e.user === undefined ? '' : `,"user":"${e.user}"`;
  const peer = e.peerJson === undefined ? '' : `,"peer":${e.peerJson}`;
  const text = e.text === undefined ? '' : `,"text":${asciiJson(e.text)}`;
  const set = e.set === undefined ? '' : `,"set":${e.set}`;
  const by = e.by ? `,"by":"${e.by}"` : '';
  const reason = e.reason ? `,"reason":${asciiJson(e.reason)}` : '';
  return `{"type":"room","event":"${e.event}","room":"${e.room}"${user}${peer}${text}${set}${by}${reason}}\n`;
}

/** One row of a `rooms` page, as JSON (its length is what pages are bounded by). */
export function encodeRoomSummary(summary: RoomSummary): string {
  return asciiJson({
    room: summary.room,
    members: summary.members,
    topic: summary.topic,
    password: summary.password,
    ...(summary.lobby ? { lobby: true } : {}),
  });
}

/** A `rooms` page from {@link encodeRoomSummary} rows; `next` when more rooms follow. */
export function encodeRoomsPage(rowsJson: readonly string[], next?: string, id?: string): string {
  const more = next === undefined ? '' : `,"next":"${next}"`;
  return `{"type":"rooms","rooms":[${rowsJson.join(',')}]${more}${ref(id)}}\n`;
}

/** The message of the day. */
export function encodeMotd(text: string): string {
  return `{"type":"motd","text":${asciiJson(text)}}\n`;
}

/** How many room messages a member missed while it was not reading. */
export function encodeDropped(room: string, messages: number): string {
  return `{"type":"dropped","room":"${room}","messages":${messages}}\n`;
}
