import {
  ErrorCode,
  encodeAck,
  encodeError,
  encodeJoined,
  encodeMemberInfo,
  encodeMembersMap,
  encodeMotd,
  encodeRoomEvent,
  encodeRoomMessageDelivery,
  encodeRoomSummary,
  encodeRoomsPage,
  encodeWho,
  fromBase64,
  identityFingerprint,
  nameKey,
  ROOMS_PAGE_BYTES,
  ROOMS_PAGE_MAX,
  type RoomClientFrame,
  type RoomMessageFrame,
  roomKey,
} from '../../protocol/index.js';
import { joinRoom } from './join.js';
import { moderate } from './moderation.js';
import {
  type Authority,
  RANK,
  type RoomHost,
  type RoomMember,
  type RoomServiceOptions,
} from './room-host.js';

export type { RoomMember, RoomServiceOptions } from './room-host.js';

/**
 * Rooms: live membership (who is in which room now) over persisted rooms, roles, bans and
 * password hashes. Membership is enforced here; room messages are opaque sender-key
 * envelopes fanned out to the other members, one serialization per message. A member that
 * is not reading misses room messages (and is told how many), never membership changes.
 */
export class RoomService<M extends RoomMember> {
  #o: RoomServiceOptions;
  #live = new Map<string, { name: string; members: Map<string, M> }>();
  #now: () => number;
  #host: RoomHost<M>;

  constructor(options: RoomServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#host = {
      options,
      now: () => this.#now(),
      authority: (room, member) => this.#authority(room, member),
      isMember: (room, member) => this.#isMember(room, member),
      online: (key, name) => this.#live.get(key)?.members.get(nameKey(name)),
      broadcast: (key, line) => this.#broadcast(key, line),
      admit: (member, room, id, extra) => this.#admit(member, room, id, extra),
      remove: (key, member, event, by, reason) => this.#remove(key, member, event, by, reason),
      error: (member, code, text, ref) => this.#error(member, code, text, ref),
    };
    const rooms = options.store.rooms;
    if (options.lobby && !rooms.get(options.lobby))
      rooms.create(options.lobby, undefined, this.#now());
    rooms.markAllEmpty(this.#now()); // nobody is in any room after a start
  }

  /** After a v2 welcome: the message of the day, then the lobby. */
  welcome(member: M): Promise<void> | undefined {
    const motd = this.#o.store.getSetting('motd');
    if (motd) member.send(encodeMotd(motd), 'motd');
    if (this.#o.lobby && member.identityKey)
      return joinRoom(this.#host, member, { room: this.#o.lobby });
    return undefined;
  }

  /** The member disconnected: leave every room. */
  memberLeft(member: M): void {
    for (const [key, room] of this.#live) {
      if (room.members.get(nameKey(member.name)) === member) this.#remove(key, member, 'part');
    }
  }

  handle(member: M, frame: RoomClientFrame): Promise<void> | undefined {
    if (!member.identityKey) {
      this.#error(
        member,
        ErrorCode.NEEDS_IDENTITY,
        'rooms need a v2 session with an identity key',
        frame.id,
      );
      return undefined;
    }
    switch (frame.type) {
      case 'join':
        return joinRoom(this.#host, member, frame);
      case 'moderate':
        return moderate(this.#host, member, frame);
      case 'part':
        if (!this.#isMember(frame.room, member)) {
          this.#error(member, ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`, frame.id);
          return undefined;
        }
        this.#remove(roomKey(frame.room), member, 'part');
        return undefined;
      case 'rooms':
        member.send(this.#roomsLine(frame.after, frame.id), 'rooms');
        return undefined;
      case 'who':
        this.#who(member, frame.room, frame.id);
        return undefined;
      case 'topic':
        this.#topic(member, frame.room, frame.text, frame.id);
        return undefined;
      case 'motd':
        this.#motd(member, frame.text, frame.id);
        return undefined;
      case 'roommsg':
        this.#message(member, frame);
        return undefined;
    }
  }

  /** Deletes rooms empty for longer than the TTL (not the lobby, not rooms admins own). */
  sweep(): number {
    const { store, admins, limits, lobby } = this.#o;
    let deleted = 0;
    for (const { name, owners } of store.rooms.emptySince(this.#now() - limits.ttlMs)) {
      if (lobby !== undefined && roomKey(name) === roomKey(lobby)) continue;
      if (this.#live.has(roomKey(name))) continue;
      if (owners.some((idk) => admins.has(identityFingerprint(fromBase64(idk, 'idk', 32)))))
        continue;
      store.rooms.delete(name);
      deleted++;
    }
    return deleted;
  }

  #error(member: M, code: ErrorCode, text: string, ref?: string): void {
    member.send(encodeError(code, text, ref), 'error');
  }

  #isMember(room: string, member: M): boolean {
    return this.#live.get(roomKey(room))?.members.get(nameKey(member.name)) === member;
  }

  #authority(room: string, member: M): Authority {
    if (member.identityFingerprint && this.#o.admins.has(member.identityFingerprint))
      return 'admin';
    return (
      (member.identityKey && this.#o.store.rooms.getRole(room, member.identityKey)) || 'member'
    );
  }

  #admit(member: M, room: string, id: string | undefined, created?: { password: boolean }): void {
    const key = roomKey(room);
    let live = this.#live.get(key);
    if (!live) {
      live = { name: this.#o.store.rooms.get(room)?.name ?? room, members: new Map() };
      this.#live.set(key, live);
      this.#o.store.rooms.markEmpty(live.name, undefined);
    }
    if (live.members.get(nameKey(member.name)) !== member) {
      live.members.set(nameKey(member.name), member);
      this.#broadcast(
        key,
        encodeRoomEvent({
          event: 'join',
          room: live.name,
          user: member.name,
          peerJson: this.#memberJson(live.name, member),
        }),
        member,
      );
    }
    const stored = this.#o.store.rooms.get(room);
    member.send(
      encodeJoined(live.name, stored?.topic ?? '', this.#membersJson(key), {
        ...(created ? { created: true, password: created.password } : {}),
        id,
      }),
      'room',
    );
  }

  #memberJson(room: string, member: M): string {
    const authority = this.#authority(room, member);
    return encodeMemberInfo(member.peerJson, authority === 'member' ? undefined : authority);
  }

  #membersJson(key: string): string {
    const live = this.#live.get(key);
    if (!live) return '{}';
    return encodeMembersMap(
      [...live.members.values()].map((m) => [m.name, this.#memberJson(live.name, m)] as const),
    );
  }

  #remove(
    key: string,
    member: M,
    event: 'part' | 'kick' | 'ban',
    by?: string,
    reason?: string,
  ): void {
    const live = this.#live.get(key);
    if (!live || live.members.get(nameKey(member.name)) !== member) return;
    const line = encodeRoomEvent({
      event,
      room: live.name,
      user: member.name,
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
    });
    this.#broadcast(key, line);
    live.members.delete(nameKey(member.name));
    if (member.open) member.send(line, 'room');
    if (live.members.size === 0) {
      this.#live.delete(key);
      this.#o.store.rooms.markEmpty(live.name, this.#now());
    }
  }

  /** A membership or settings event to every member except `except`; how many got it. */
  #broadcast(key: string, line: string, except?: M): number {
    const live = this.#live.get(key);
    if (!live) return 0;
    let delivered = 0;
    for (const member of [...live.members.values()]) {
      if (member !== except && member.push(line, 'room') === 'queued') delivered++;
    }
    return delivered;
  }

  #message(member: M, frame: RoomMessageFrame): void {
    const key = roomKey(frame.room);
    if (!this.#isMember(frame.room, member)) {
      this.#o.stats.securityEvents.inc('room_not_member');
      this.#error(member, ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`, frame.id);
      return;
    }
    const live = this.#live.get(key)!;
    const line = encodeRoomMessageDelivery(member.name, live.name, frame);
    let delivered = 0;
    for (const other of [...live.members.values()]) {
      if (other === member) continue;
      if (other.offer(line, 'roommsg') === 'queued') delivered++;
      else if (other.open) other.missedRoomMessage(live.name);
    }
    this.#o.stats.roomMessages++;
    this.#o.stats.roomDeliveries += delivered;
    if (frame.id !== undefined) member.send(encodeAck(frame.id), 'ack');
  }

  /** One page of the room list: at most ROOMS_PAGE_MAX rooms and ROOMS_PAGE_BYTES. */
  #roomsLine(after: string | undefined, id?: string): string {
    const parts: string[] = [];
    let bytes = 0;
    let next: string | undefined;
    const rooms = this.#o.store.rooms.list(after, ROOMS_PAGE_MAX + 1);
    for (const [i, room] of rooms.entries()) {
      const part = encodeRoomSummary({
        room: room.name,
        members: this.#live.get(roomKey(room.name))?.members.size ?? 0,
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

  #who(member: M, room: string, id?: string): void {
    const stored = this.#o.store.rooms.get(room);
    if (!stored) {
      this.#error(member, ErrorCode.NO_SUCH_ROOM, `${room} does not exist`, id);
      return;
    }
    if (
      stored.passwordHash &&
      !this.#isMember(room, member) &&
      this.#authority(room, member) !== 'admin'
    ) {
      this.#error(
        member,
        ErrorCode.NOT_MEMBER,
        `${stored.name} is password-protected: join it to see who is there`,
        id,
      );
      return;
    }
    member.send(encodeWho(stored.name, this.#membersJson(roomKey(room)), id), 'room');
  }

  #topic(member: M, room: string, text: string | undefined, id?: string): void {
    const stored = this.#o.store.rooms.get(room);
    if (!stored) {
      this.#error(member, ErrorCode.NO_SUCH_ROOM, `${room} does not exist`, id);
      return;
    }
    if (text === undefined) {
      member.send(
        encodeRoomEvent({ event: 'topic', room: stored.name, text: stored.topic }),
        'room',
      );
      return;
    }
    if (RANK[this.#authority(room, member)] < RANK.op) {
      this.#error(
        member,
        ErrorCode.FORBIDDEN,
        `only operators of ${stored.name} can set its topic`,
        id,
      );
      return;
    }
    this.#o.store.rooms.setTopic(room, text);
    const line = encodeRoomEvent({ event: 'topic', room: stored.name, text, by: member.name });
    this.#broadcast(roomKey(room), line);
    if (!this.#isMember(room, member)) member.send(line, 'room');
  }

  #motd(member: M, text: string | undefined, id?: string): void {
    if (text === undefined) {
      member.send(encodeMotd(this.#o.store.getSetting('motd') ?? ''), 'motd');
      return;
    }
    if (!member.identityFingerprint || !this.#o.admins.has(member.identityFingerprint)) {
      this.#error(member, ErrorCode.FORBIDDEN, 'only server administrators can set the MOTD', id);
      return;
    }
    this.#o.store.setSetting('motd', text);
    member.log.info({ event: 'motd.set' });
    member.send(encodeMotd(text), 'motd');
  }
}
