import {
  type FileContent,
  type ModerationAction,
  nameKey,
  type RoomClientFrame,
  type RoomMemberInfo,
  type RoomServerFrame,
  roomKey,
  type SenderKeyContent,
} from '../../protocol/index.js';
import type { EventSink, PeerSummary, RoomEvent, SendOutcome } from '../events.js';
import type { LocalUser } from '../identity/local-user.js';
import type { ServerLink } from '../net/server-session.js';
import type { PeerBook, PeerStatus } from '../trust/peer-book.js';
import { peerSummary } from '../trust/peer-summaries.js';
import { RoomInbox } from './room-inbox.js';
import type { RoomLimits } from './room-limits.js';
import { type PairwiseChannel, RoomOutbox } from './room-outbox.js';
import {
  applyMembers,
  forgetMember,
  type JoinedRoom,
  memberMap,
  newRoom,
  rotateOwnKey,
} from './room-state.js';

export interface RoomOptions {
  user: LocalUser;
  link: ServerLink;
  peers: PeerBook;
  /** How our sender key reaches members (the pairwise ratchet). */
  keys: PairwiseChannel;
  limits: RoomLimits;
  sink: EventSink;
  now: () => number;
  /** A member offers a file to a room. */
  onFileOffer?: (from: string, content: FileContent, room: string) => void;
}

/** Moderation of a member (`password` is a room setting: {@link RoomManager.setPassword}). */
export type MemberModeration = Exclude<ModerationAction, 'password'>;

/**
 * Rooms on the client. Membership is what we show: every change to a member list, from
 * any frame (`joined`, `who`, `room` events), is shown as a join or part before any key
 * can go to a new member, and a member who vanishes makes us rotate our sender key. Our
 * key goes to members over the pairwise ratchet with our next message (only to members
 * shown when it was typed: room-outbox.ts); other members' keys are accepted only from
 * identities in good standing, and room lines carry their sender's key status
 * (room-inbox.ts). Also the requests about rooms this client sends.
 */
export class RoomManager {
  #options: RoomOptions;
  #rooms = new Map<string, JoinedRoom>();
  /** Rooms the user asked to join (answered even when already in: "you joined" again). */
  #asked = new Set<string>();
  #passwords = new Map<string, string | undefined>();
  /** Rooms we were banned from in this session (for the hint when sending there). */
  #bannedFrom = new Map<string, string>();
  #inbox: RoomInbox;
  #outbox: RoomOutbox;

  constructor(options: RoomOptions) {
    this.#options = options;
    this.#inbox = new RoomInbox(options);
    this.#outbox = new RoomOutbox({
      ...options,
      joined: (room) => this.#rooms.get(roomKey(room)),
    });
  }

  /** Hourly: expires old skipped room keys. */
  maintain(): number {
    return this.#options.limits.maintain();
  }

  /** The rooms we are in, as the server spells them. */
  joinedNames(): string[] {
    return [...this.#rooms.values()].map((room) => room.name);
  }

  isMember(room: string): boolean {
    return this.#rooms.has(roomKey(room));
  }

  joinedRooms(): string[] {
    return [...this.#rooms.values()].map((room) => room.name);
  }

  /** Names of a room's members (completion, prompt). */
  members(room: string): string[] {
    return [...(this.#rooms.get(roomKey(room))?.members.values() ?? [])].map((m) => m.name);
  }

  join(room: string, password?: string): boolean {
    const pending = this.#rooms.get(roomKey(room));
    if (pending && password !== undefined) pending.password = password;
    this.#passwords.set(roomKey(room), password);
    this.#asked.add(roomKey(room));
    return this.#request({ type: 'join', room, ...(password ? { password } : {}) });
  }

  part(room: string): boolean {
    this.#passwords.delete(roomKey(room));
    return this.#request({ type: 'part', room });
  }

  /** Asks for a room's members (answered by a `users` event). */
  who(room: string): boolean {
    return this.#request({ type: 'who', room });
  }

  /** Asks for a page of the server's rooms, after the room the previous page ended with. */
  list(after?: string): boolean {
    return this.#request({ type: 'rooms', ...(after ? { after } : {}) });
  }

  /** Asks for a room's topic, or sets it (operators). */
  topic(room: string, text?: string): boolean {
    return this.#request({ type: 'topic', room, ...(text ? { text } : {}) });
  }

  /** Moderates a member (`duration` in seconds, for a ban; absent: for good). */
  moderate(
    room: string,
    action: MemberModeration,
    user: string,
    details: { reason?: string; duration?: number } = {},
  ): boolean {
    return this.#request({
      type: 'moderate',
      room,
      action,
      user,
      ...(details.reason ? { reason: details.reason } : {}),
      ...(details.duration ? { duration: details.duration } : {}),
    });
  }

  /** Sets a room's password (absent or empty: clears it). */
  setPassword(room: string, password?: string): boolean {
    return this.#request({
      type: 'moderate',
      room,
      action: 'password',
      ...(password ? { password } : {}),
    });
  }

  /** Asks for the message of the day, or sets it (server administrators). */
  motd(text?: string): boolean {
    return this.#request({ type: 'motd', ...(text ? { text } : {}) });
  }

  /**
   * After a reconnect: join again every room we were in (membership is per connection),
   * with a new sending chain; the answers are diffed against the members we knew.
   */
  rejoin(): void {
    for (const room of this.#rooms.values()) {
      rotateOwnKey(room);
      room.rejoining = true;
      this.#asked.add(roomKey(room.name));
      this.#request({
        type: 'join',
        room: room.name,
        ...(room.password ? { password: room.password } : {}),
      });
    }
  }

  /** Encrypts and sends a room message (after giving our key to members who lack it). */
  send(room: string, text: string, action: boolean): SendOutcome {
    const joined = this.#rooms.get(roomKey(room));
    if (!joined) {
      const banned = this.#bannedFrom.get(roomKey(room));
      return {
        ok: false,
        reason:
          banned !== undefined
            ? `you are banned from ${banned}: your messages cannot reach it`
            : `you are not in ${room} (/join ${room})`,
      };
    }
    if (!this.#options.link.ready || joined.rejoining)
      return { ok: false, reason: `not connected to ${joined.name} yet` };
    return this.#outbox.send(joined, text, action);
  }

  /** Sends a file descriptor to a room we are in (the members shown now). */
  sendFile(room: string, content: FileContent): Promise<true | string> {
    const joined = this.#rooms.get(roomKey(room));
    if (!joined) return Promise.resolve(`you are not in ${room}`);
    return this.#outbox.sendFile(joined, content);
  }

  /** A member's sender key arrived over the pairwise ratchet (see SenderKeySink). */
  onSenderKey(from: string, identity: string, content: SenderKeyContent, status: PeerStatus): void {
    const room = this.#rooms.get(roomKey(content.room));
    if (room) this.#inbox.onSenderKey(room, from, identity, content, status);
  }

  /** Room frames from the server. */
  onFrame(frame: RoomServerFrame): void {
    const { sink } = this.#options;
    switch (frame.type) {
      case 'joined':
        this.#onJoined(frame);
        return;
      case 'room':
        this.#onRoomEvent(frame);
        return;
      case 'roommsg': {
        const room = this.#rooms.get(roomKey(frame.room));
        if (room) this.#inbox.onMessage(room, frame);
        return;
      }
      case 'who': {
        const room = this.#rooms.get(roomKey(frame.room));
        if (room) this.#apply(room, frame.members);
        sink.event({ kind: 'users', room: frame.room, users: this.#summaries(frame.members) });
        return;
      }
      case 'rooms':
        sink.event({ kind: 'rooms', rooms: frame.rooms });
        if (frame.next) sink.notice('info', `more rooms: /rooms ${frame.next}`);
        return;
      case 'dropped':
        sink.notice(
          'warning',
          `${frame.messages} message${frame.messages === 1 ? '' : 's'} in ${frame.room} did not reach you while your connection was not keeping up`,
        );
        return;
      case 'motd':
        sink.notice(
          'info',
          frame.text ? `message of the day: ${frame.text}` : 'no message of the day is set',
        );
        return;
    }
  }

  #request(frame: RoomClientFrame): boolean {
    return this.#options.link.send(frame);
  }

  #summaries(members: ReadonlyMap<string, RoomMemberInfo>): PeerSummary[] {
    const { peers, user } = this.#options;
    return [...members].map(([name, info]) => peerSummary(peers, user.name, name, info));
  }

  /** Applies a member list from any frame: every change is shown (see room-state.ts). */
  #apply(room: JoinedRoom, members: ReadonlyMap<string, RoomMemberInfo>): void {
    applyMembers(room, memberMap(members), this.#options.user.name, (event, member) =>
      this.#event({ room: room.name, event, user: member.name }),
    );
  }

  #onJoined(frame: Extract<RoomServerFrame, { type: 'joined' }>): void {
    const key = roomKey(frame.room);
    const existing = this.#rooms.get(key);
    const password = this.#passwords.get(key);
    const asked = this.#asked.delete(key);
    const room = existing ?? newRoom(frame.room, frame.topic);
    if (password !== undefined) room.password = password;
    room.topic = frame.topic;
    if (existing) this.#apply(room, frame.members);
    else room.members = memberMap(frame.members);
    room.rejoining = false;
    this.#rooms.set(key, room);
    this.#bannedFrom.delete(key);
    // A snapshot we did not ask for (the server refreshing it, or re-adding us to the lobby
    // after a reconnect) only shows what changed.
    if (existing && !asked) return;
    const { sink } = this.#options;
    if (frame.created)
      sink.notice(
        'info',
        `you created ${frame.room}${frame.password ? ' with a password' : ''}: you own it`,
      );
    this.#event({
      room: frame.room,
      event: 'joined',
      ...(frame.topic ? { text: frame.topic } : {}),
    });
    sink.event({ kind: 'users', room: frame.room, users: this.#summaries(frame.members) });
  }

  #onRoomEvent(frame: Extract<RoomServerFrame, { type: 'room' }>): void {
    const key = roomKey(frame.room);
    const room = this.#rooms.get(key);
    const event: Omit<RoomEvent, 'kind' | 'ts'> = {
      room: frame.room,
      event: frame.event,
      ...(frame.user ? { user: frame.user } : {}),
      ...(frame.by ? { by: frame.by } : {}),
      ...(frame.text !== undefined ? { text: frame.text } : {}),
      ...(frame.reason ? { reason: frame.reason } : {}),
    };
    const member = frame.user ? nameKey(frame.user) : undefined;
    const self = frame.user !== undefined && this.#options.user.is(frame.user);
    if (room && member && frame.event === 'join' && frame.peer && !self) {
      // A join for someone already there with the same keys changes nothing; another
      // identity under the name is shown (and rotates our key) by applyMembers.
      const next = new Map(room.members);
      next.set(member, { name: frame.user!, info: frame.peer });
      applyMembers(room, next, this.#options.user.name, () => this.#event(event));
      return;
    }
    if (
      room &&
      member &&
      (frame.event === 'part' || frame.event === 'kick' || frame.event === 'ban')
    ) {
      if (self) {
        if (frame.event === 'ban') this.#bannedFrom.set(key, room.name);
        this.#rooms.delete(key);
        this.#options.limits.forgetRoom(room);
        if (frame.event !== 'part') this.#passwords.delete(key);
      } else if (room.members.has(member)) {
        room.members.delete(member);
        forgetMember(room, member);
        rotateOwnKey(room); // a new chain nobody who left has
      }
    }
    if (room && frame.event === 'topic' && frame.text !== undefined) room.topic = frame.text;
    if (room && member && (frame.event === 'op' || frame.event === 'deop')) {
      const target = room.members.get(member);
      if (target) {
        const { role: _role, ...rest } = target.info;
        target.info = frame.event === 'op' ? { ...rest, role: 'op' } : rest;
      }
    }
    this.#event(event);
  }

  #event(event: Omit<RoomEvent, 'kind' | 'ts'>): void {
    this.#options.sink.event({ kind: 'room', ...event });
  }
}
