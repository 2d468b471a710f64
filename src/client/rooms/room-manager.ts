import {
  distributionOf,
  isValidRoom,
  nameKey,
  type PairwiseContent,
  type RoomMemberInfo,
  type RoomServerFrame,
  receiveSenderKey,
  roomKey,
  type SenderKeyContent,
  senderKeyContent,
  senderKeyOf,
} from '../../protocol/index.js';
import type { ClientCore } from '../client-core.js';
import type { SendOutcome } from '../direct/outgoing.js';
import { type PeerSummary, Protection, type RoomEvent } from '../events.js';
import type { PeerStatus } from '../trust/peer-book.js';
import { peerSummary } from '../trust/peer-summaries.js';
import { fingerprintOfKey } from '../trust/trust-store.js';
import type { RoomLimits } from './room-limits.js';
import { openRoomFrame, sealRoomFrame } from './room-messages.js';
import {
  applyMembers,
  forgetMember,
  type JoinedRoom,
  memberMap,
  newRoom,
  type RoomMessage,
  rotateOwnKey,
} from './room-state.js';

export interface RoomHost extends ClientCore {
  sendControl(to: string, content: PairwiseContent): Promise<boolean>;
}

/**
 * Rooms on the client. Membership is what we show: every change to a member list, from
 * any frame (`joined`, `who`, `room` events), is shown as a join or part before any key
 * can go to a new member, and a member who vanishes makes us rotate our sender key. Our
 * key goes to members over the pairwise ratchet with our next message (only to members
 * shown when it was typed); other members' keys are accepted only from identities in
 * good standing, and room lines carry their sender's key status.
 */
export class RoomManager {
  #host: RoomHost;
  #rooms = new Map<string, JoinedRoom>();
  #nextId = 0;
  /** Rooms the user asked to join (answered even when already in: "you joined" again). */
  #asked = new Set<string>();
  #passwords = new Map<string, string | undefined>();
  #limits: RoomLimits;

  constructor(host: RoomHost, limits: RoomLimits) {
    this.#host = host;
    this.#limits = limits;
  }

  /** Hourly: expires old skipped room keys. */
  maintain(): number {
    return this.#limits.maintain();
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
    return this.#host.send({ type: 'join', room, ...(password ? { password } : {}) });
  }

  part(room: string): boolean {
    this.#passwords.delete(roomKey(room));
    return this.#host.send({ type: 'part', room });
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
      this.#host.send({
        type: 'join',
        room: room.name,
        ...(room.password ? { password: room.password } : {}),
      });
    }
  }

  /** Encrypts and sends a room message (after giving our key to members who lack it). */
  send(room: string, text: string, action: boolean): SendOutcome {
    const joined = this.#rooms.get(roomKey(room));
    if (!joined) return { ok: false, reason: `you are not in ${room} (/join ${room})` };
    if (!this.#host.ready || joined.rejoining)
      return { ok: false, reason: `not connected to ${joined.name} yet` };
    const id = `r${(++this.#nextId).toString(36)}-${Date.now().toString(36)}`;
    // The members shown now: nobody who appears later gets the key for this message.
    const shown = new Set(joined.members.keys());
    this.#host.emitEvent({
      kind: 'message',
      ts: this.#host.now(),
      direction: 'out',
      from: this.#host.name,
      to: joined.name,
      text,
      protection: Protection.room,
      id,
      ...(action ? { action: true } : {}),
    });
    joined.chain = joined.chain.then(async () => {
      await this.#distribute(joined, shown);
      if (this.#rooms.get(roomKey(room)) !== joined) return;
      this.#host.send(sealRoomFrame(joined, this.#host.name, text, action, id));
    });
    return { ok: true, id };
  }

  /** Sends our current key to every member (shown at send time) who does not hold it yet. */
  async #distribute(room: JoinedRoom, shown: ReadonlySet<string>): Promise<void> {
    const self = nameKey(this.#host.name);
    const missing = [...room.members.keys()].filter(
      (m) => m !== self && shown.has(m) && !room.holders.has(m),
    );
    if (missing.length === 0) return;
    const own = room.own;
    const content = senderKeyContent(room.name, distributionOf(own));
    const results = await Promise.all(
      missing.map((m) => this.#host.sendControl(room.members.get(m)!.name, content)),
    );
    const failed: string[] = [];
    missing.forEach((m, i) => {
      if (results[i] && room.own === own) room.holders.add(m);
      else if (!results[i]) failed.push(room.members.get(m)?.name ?? m);
    });
    if (failed.length > 0) {
      this.#host.notice(
        'warning',
        `${room.name}: ${failed.join(', ')} cannot receive room keys (legacy client, no session, or a key in question: see /list); they will not be able to read your messages`,
        'E_ROOM_KEY',
      );
    }
  }

  /** Room frames from the server. */
  onFrame(frame: RoomServerFrame): void {
    switch (frame.type) {
      case 'joined':
        this.#onJoined(frame);
        return;
      case 'room':
        this.#onRoomEvent(frame);
        return;
      case 'roommsg':
        this.#onMessage(frame);
        return;
      case 'who': {
        const room = this.#rooms.get(roomKey(frame.room));
        if (room) this.#apply(room, frame.members);
        this.#host.emitEvent({
          kind: 'users',
          ts: this.#host.now(),
          room: frame.room,
          users: this.#summaries(frame.members),
        });
        return;
      }
      case 'rooms':
        this.#host.emitEvent({ kind: 'rooms', ts: this.#host.now(), rooms: frame.rooms });
        if (frame.next) this.#host.notice('info', `more rooms: /rooms ${frame.next}`);
        return;
      case 'dropped':
        this.#host.notice(
          'warning',
          `${frame.messages} message${frame.messages === 1 ? '' : 's'} in ${frame.room} did not reach you while your connection was not keeping up`,
        );
        return;
      case 'motd':
        if (frame.text) this.#host.notice('info', `message of the day: ${frame.text}`);
        return;
    }
  }

  #summaries(members: ReadonlyMap<string, RoomMemberInfo>): PeerSummary[] {
    return [...members].map(([name, info]) =>
      peerSummary(this.#host.peers, this.#host.name, name, info),
    );
  }

  /** Applies a member list from any frame: every change is shown (see room-state.ts). */
  #apply(room: JoinedRoom, members: ReadonlyMap<string, RoomMemberInfo>): void {
    applyMembers(room, memberMap(members), this.#host.name, (event, member) =>
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
    // A snapshot we did not ask for (the server refreshing it, or re-adding us to the lobby
    // after a reconnect) only shows what changed.
    if (existing && !asked) return;
    if (frame.created)
      this.#host.notice(
        'info',
        `you created ${frame.room}${frame.password ? ' with a password' : ''}: you own it`,
      );
    this.#event({
      room: frame.room,
      event: 'joined',
      ...(frame.topic ? { text: frame.topic } : {}),
    });
    this.#host.emitEvent({
      kind: 'users',
      ts: this.#host.now(),
      room: frame.room,
      users: this.#summaries(frame.members),
    });
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
    const self = member === nameKey(this.#host.name);
    if (room && member && frame.event === 'join' && frame.peer && !self) {
      // A join for someone already there with the same keys changes nothing; another
      // identity under the name is shown (and rotates our key) by applyMembers.
      const next = new Map(room.members);
      next.set(member, { name: frame.user!, info: frame.peer });
      applyMembers(room, next, this.#host.name, () => this.#event(event));
      return;
    }
    if (
      room &&
      member &&
      (frame.event === 'part' || frame.event === 'kick' || frame.event === 'ban')
    ) {
      if (self) {
        this.#rooms.delete(key);
        this.#limits.forgetRoom(room);
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

  /** A member's sender key arrived over the pairwise ratchet. */
  onSenderKey(from: string, identity: string, content: SenderKeyContent, status: PeerStatus): void {
    const room = this.#rooms.get(roomKey(content.room));
    const member = room?.members.get(nameKey(from));
    if (!room || !member || member.info.idk !== identity) return; // not a member we know: ignore
    if (status === 'changed' || status === 'invalid') {
      this.#host.notice(
        'warning',
        `${room.name}: refused a room key from ${from}: their identity changed or offers less than before (see the TRUST alert). /trust ${from} after checking.`,
        'E_KEY_CHANGED',
      );
      return;
    }
    this.#limits.admitChain(room, nameKey(from), `${nameKey(from)}|${content.keyId}`, {
      identity,
      key: receiveSenderKey(senderKeyOf(content)),
    });
    const waiting = room.waiting;
    room.waiting = [];
    this.#limits.released(waiting);
    for (const message of waiting) this.#onMessage(message);
  }

  #onMessage(message: RoomMessage): void {
    const room = this.#rooms.get(roomKey(message.room));
    if (!room) return;
    const opened = openRoomFrame(room, message, this.#limits, this.#host.now());
    if (opened.kind === 'waiting' || opened.kind === 'ignored') return;
    const host = this.#host;
    const status: PeerStatus =
      opened.kind === 'text' && host.trust
        ? host.trust.assess(host.serverPin, message.from, opened.chain.identity)
        : 'known';
    if (opened.kind === 'failed' || status === 'changed') {
      host.emitEvent({
        kind: 'undecryptable',
        ts: host.now(),
        from: message.from,
        room: room.name,
        ...(opened.kind === 'failed'
          ? { code: opened.code, reason: opened.reason }
          : {
              code: 'E_KEY_CHANGED',
              reason: `${message.from}'s key is no longer the one you trust`,
            }),
        ...(message.id ? { id: message.id } : {}),
      });
      return;
    }
    const fingerprint = fingerprintOfKey(opened.chain.identity);
    host.emitEvent({
      kind: 'message',
      ts: host.now(),
      direction: 'in',
      from: message.from,
      to: room.name,
      text: opened.text,
      protection: Protection.room,
      keyStatus: status,
      ...(status === 'verified' ? { verified: true } : {}),
      ...(fingerprint ? { fingerprint } : {}),
      ...(opened.action ? { action: true } : {}),
      ...(message.id ? { id: message.id } : {}),
    });
  }

  #event(event: Omit<RoomEvent, 'kind' | 'ts'>): void {
    this.#host.emitEvent({ kind: 'room', ts: this.#host.now(), ...event });
  }
}

export { isValidRoom };
