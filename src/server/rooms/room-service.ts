import {
  ErrorCode,
  encodeAck,
  encodeMotd,
  encodeRoomEvent,
  encodeRoomSummary,
  encodeRoomsPage,
  encodeWho,
  fromBase64,
  identityFingerprint,
  ROOMS_PAGE_BYTES,
  ROOMS_PAGE_MAX,
  type RoomClientFrame,
  type RoomMessageFrame,
  roomKey,
} from '../../protocol/index.js';
import { joinRoom } from './join.js';
import { LiveRooms } from './live-rooms.js';
import { moderate } from './moderation.js';
import {
  RANK,
  type RoomBusHandler,
  type RoomMember,
  type RoomServiceOptions,
} from './room-host.js';

export type { RoomMember, RoomServiceOptions } from './room-host.js';

/**
 * Rooms: live membership (who is in which room now, {@link LiveRooms}) over persisted
 * rooms, roles, bans and password hashes. Membership is enforced here; room messages are
 * opaque sender-key envelopes fanned out to the other members through the router, one
 * serialization per message. A member that is not reading misses room messages (and is
 * told how many), never membership changes.
 */
export class RoomService<M extends RoomMember> {
  #o: RoomServiceOptions;
  #live: LiveRooms<M>;

  constructor(options: RoomServiceOptions) {
    this.#o = options;
    this.#live = new LiveRooms<M>(options);
  }

  /** What this node does with room traffic other nodes publish. */
  get busHandler(): RoomBusHandler {
    return {
      deliver: (key, line, essential, exceptName) =>
        void this.#live.deliver(key, line, essential, exceptName),
      removeLocal: (key, name, event, by, reason) =>
        this.#live.removeLocal(key, name, event, by, reason),
      resync: () => this.#live.resync(),
    };
  }

  /** At start: the lobby exists and nobody is in any room. */
  async open(): Promise<void> {
    const { store, lobby, clock } = this.#o;
    if (lobby && !(await store.rooms.get(lobby)))
      await store.rooms.create(lobby, undefined, clock.now());
    await store.rooms.markAllEmpty(clock.now());
  }

  /** After a v2 welcome: the message of the day, then the lobby. */
  async welcome(member: M): Promise<void> {
    const motd = await this.#o.store.getSetting('motd');
    if (motd) member.send(encodeMotd(motd), 'motd');
    if (this.#o.lobby && member.identityKey)
      await joinRoom(this.#live, member, { room: this.#o.lobby });
  }

  /** The members of `room` now, when `member` is one of them (file recipients at send time). */
  membersOf(room: string, member: M): string[] | undefined {
    return this.#live.isMember(room, member) ? this.#live.memberNames(roomKey(room)) : undefined;
  }

  /** The member disconnected: leave every room. */
  memberLeft(member: M): void {
    for (const key of this.#live.roomsOf(member)) {
      this.#live
        .remove(key, member, 'part')
        .catch((error: unknown) =>
          this.#o.logger.error({ event: 'internal_error', err: error }, 'leaving a room failed'),
        );
    }
  }

  /** Handles a room frame from a member with an identity (checked by the frame table). */
  async handle(member: M, frame: RoomClientFrame): Promise<void> {
    switch (frame.type) {
      case 'join':
        return joinRoom(this.#live, member, frame);
      case 'moderate':
        return moderate(this.#live, member, frame);
      case 'part':
        if (!this.#live.isMember(frame.room, member)) {
          this.#live.refuse(member, ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`, frame.id);
          return;
        }
        return this.#live.remove(roomKey(frame.room), member, 'part');
      case 'rooms':
        member.send(await this.#roomsLine(frame.after, frame.id), 'rooms');
        return;
      case 'who':
        return this.#who(member, frame.room, frame.id);
      case 'topic':
        return this.#topic(member, frame.room, frame.text, frame.id);
      case 'motd':
        return this.#motd(member, frame.text, frame.id);
      case 'roommsg':
        this.#message(member, frame);
        return;
    }
  }

  /** Deletes rooms empty for longer than the TTL (not the lobby, not rooms admins own). */
  async sweep(): Promise<number> {
    const { store, admins, limits, lobby, clock } = this.#o;
    let deleted = 0;
    for (const { name, owners } of await store.rooms.emptySince(clock.now() - limits.ttlMs)) {
      if (lobby !== undefined && roomKey(name) === roomKey(lobby)) continue;
      if (this.#live.has(roomKey(name))) continue;
      if (owners.some((idk) => admins.has(identityFingerprint(fromBase64(idk, 'idk', 32)))))
        continue;
      await store.rooms.delete(name);
      deleted++;
    }
    return deleted;
  }

  #message(member: M, frame: RoomMessageFrame): void {
    if (!this.#live.isMember(frame.room, member)) {
      this.#o.stats.securityEvents.inc('room_not_member');
      this.#live.refuse(member, ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`, frame.id);
      return;
    }
    const delivered = this.#live.message(member, frame);
    this.#o.stats.roomMessages++;
    this.#o.stats.roomDeliveries += delivered;
    if (frame.id !== undefined) member.send(encodeAck(frame.id), 'ack');
  }

  /** One page of the room list: at most ROOMS_PAGE_MAX rooms and ROOMS_PAGE_BYTES. */
  async #roomsLine(after: string | undefined, id?: string): Promise<string> {
    const parts: string[] = [];
    let bytes = 0;
    let next: string | undefined;
    const rooms = await this.#o.store.rooms.list(after, ROOMS_PAGE_MAX + 1);
    // On a cluster, members on every node (this node's are among them).
    const counts = await this.#o.bus?.memberCounts(rooms.map((room) => roomKey(room.name)));
    for (const [i, room] of rooms.entries()) {
      const part = encodeRoomSummary({
        room: room.name,
        members: Math.max(this.#live.size(roomKey(room.name)), counts?.[i] ?? 0),
        topic: room.topic,
        password: room.passwordHash !== undefined,
        ...(room.name === this.#o.lobby ? { lobby: true } : {}),
      });
      if (i === ROOMS_PAGE_MAX || (parts.length > 0 && bytes + part.length > ROOMS_PAGE_BYTES)) {
        next = rooms[i - 1]!.name;
        break;
      }
      parts.push(part);
      bytes += part.length + 1;
    }
    return encodeRoomsPage(parts, next, id);
  }

  async #who(member: M, room: string, id?: string): Promise<void> {
    const stored = await this.#o.store.rooms.get(room);
    if (!stored) {
      this.#live.refuse(member, ErrorCode.NO_SUCH_ROOM, `${room} does not exist`, id);
      return;
    }
    if (
      stored.passwordHash &&
      !this.#live.isMember(room, member) &&
      (await this.#live.authority(room, member)) !== 'admin'
    ) {
      const text = `${stored.name} is password-protected: join it to see who is there`;
      this.#live.refuse(member, ErrorCode.NOT_MEMBER, text, id);
      return;
    }
    member.send(encodeWho(stored.name, await this.#live.membersJson(roomKey(room)), id), 'room');
  }

  async #topic(member: M, room: string, text: string | undefined, id?: string): Promise<void> {
    const stored = await this.#o.store.rooms.get(room);
    if (!stored) {
      this.#live.refuse(member, ErrorCode.NO_SUCH_ROOM, `${room} does not exist`, id);
      return;
    }
    if (text === undefined) {
      member.send(
        encodeRoomEvent({ event: 'topic', room: stored.name, text: stored.topic }),
        'room',
      );
      return;
    }
    if (RANK[await this.#live.authority(room, member)] < RANK.op) {
      const refusal = `only operators of ${stored.name} can set its topic`;
      this.#live.refuse(member, ErrorCode.FORBIDDEN, refusal, id);
      return;
    }
    await this.#o.store.rooms.setTopic(room, text);
    const line = encodeRoomEvent({ event: 'topic', room: stored.name, text, by: member.name });
    this.#live.broadcast(roomKey(room), line);
    if (!this.#live.isMember(room, member)) member.send(line, 'room');
  }

  async #motd(member: M, text: string | undefined, id?: string): Promise<void> {
    if (text === undefined) {
      member.send(encodeMotd((await this.#o.store.getSetting('motd')) ?? ''), 'motd');
      return;
    }
    if (!member.identityFingerprint || !this.#o.admins.has(member.identityFingerprint)) {
      this.#live.refuse(
        member,
        ErrorCode.FORBIDDEN,
        'only server administrators can set the MOTD',
        id,
      );
      return;
    }
    await this.#o.store.setSetting('motd', text);
    member.log.info({ event: 'motd.set' });
    member.send(encodeMotd(text), 'motd');
  }
}
