import {
  createSenderKey,
  nameKey,
  type ReceivedSenderKey,
  type RoomMemberInfo,
  type RoomServerFrame,
  type SenderKey,
} from '../../protocol/index.js';

export type RoomMessage = Extract<RoomServerFrame, { type: 'roommsg' }>;

export interface Member {
  name: string;
  info: RoomMemberInfo;
}

/** Another member's chain, with the identity key that handed it to us. */
export interface ReceivedChain {
  key: ReceivedSenderKey;
  identity: string;
}

/** One room we are in, as our client sees it. */
export interface JoinedRoom {
  name: string;
  topic: string;
  /** By name key. Changed only through {@link applyMembers}, which shows every change. */
  members: Map<string, Member>;
  /** Our current sending chain; replaced whenever someone leaves (they must not read on). */
  own: SenderKey;
  /** Members who already hold `own` (lazy distribution: keys go out with our next message). */
  holders: Set<string>;
  /** Other members' chains by `${member}|${keyId}`. */
  received: Map<string, ReceivedChain>;
  /** Messages waiting for their sender's key (bounded), retried when a key arrives. */
  waiting: RoomMessage[];
  /** Sends in order: distribution first, then the message. */
  chain: Promise<void>;
  password?: string;
  /** After a reconnect, until the server confirms the rejoin: nothing is sent. */
  rejoining?: boolean;
}

export function newRoom(name: string, topic: string): JoinedRoom {
  return {
    name,
    topic,
    members: new Map(),
    own: createSenderKey(),
    holders: new Set(),
    received: new Map(),
    waiting: [],
    chain: Promise.resolve(),
  };
}

/** A new sending chain nobody holds yet (forward secrecy for the room after a departure). */
export function rotateOwnKey(room: JoinedRoom): void {
  room.own = createSenderKey();
  room.holders.clear();
}

/** Forgets what a member held and handed us (they left, or came back as someone else). */
export function forgetMember(room: JoinedRoom, member: string): void {
  room.holders.delete(member);
  for (const key of [...room.received.keys()])
    if (key.startsWith(`${member}|`)) room.received.delete(key);
}

export interface MemberDiff {
  added: Member[];
  removed: Member[];
  /** Same name, another identity (or key): treated as a departure and a new arrival. */
  replaced: Member[];
}

/** What changes from `before` to `after` (maps by name key). */
export function diffMembers(
  before: ReadonlyMap<string, Member>,
  after: ReadonlyMap<string, Member>,
): MemberDiff {
  const diff: MemberDiff = { added: [], removed: [], replaced: [] };
  for (const [key, member] of after) {
    const previous = before.get(key);
    if (!previous) diff.added.push(member);
    else if (previous.info.idk !== member.info.idk || previous.info.pub !== member.info.pub)
      diff.replaced.push(member);
  }
  for (const [key, member] of before) if (!after.has(key)) diff.removed.push(member);
  return diff;
}

/**
 * Applies a member list, from any frame, to a room: every member added, removed or
 * replaced is reported through `announce` first; a departure (or a replaced identity)
 * rotates our sending key and forgets what that member handed us, and nobody new holds our
 * current key until our next message distributes it. Returns the diff.
 */
export function applyMembers(
  room: JoinedRoom,
  next: ReadonlyMap<string, Member>,
  self: string,
  announce: (event: 'join' | 'part', member: Member) => void,
): MemberDiff {
  const diff = diffMembers(room.members, next);
  const selfKey = nameKey(self);
  for (const member of diff.removed) if (nameKey(member.name) !== selfKey) announce('part', member);
  for (const member of [...diff.replaced, ...diff.added])
    if (nameKey(member.name) !== selfKey) announce('join', member);
  room.members = new Map(next);
  for (const member of [...diff.removed, ...diff.replaced])
    forgetMember(room, nameKey(member.name));
  for (const member of diff.added) room.holders.delete(nameKey(member.name));
  if (diff.removed.length > 0 || diff.replaced.length > 0) rotateOwnKey(room);
  return diff;
}

/** A member list from a server frame, keyed by name key. */
export function memberMap(members: ReadonlyMap<string, RoomMemberInfo>): Map<string, Member> {
  return new Map([...members].map(([name, info]) => [nameKey(name), { name, info }]));
}
