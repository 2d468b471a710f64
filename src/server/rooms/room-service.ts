import {
  ErrorCode,
  nameKey,
  type RoomClientFrame,
  type RoomMessageFrame,
  roomKey,
} from '../../protocol/index.js';
import { ackLine, asciiJson, errorLine } from '../frames.js';
import type { Logger } from '../logger.js';
import type { SendResult } from '../router.js';
import type { ServerStats } from '../stats.js';
import type { ServerStore } from '../store/index.js';
import type { PasswordLockout } from './lockout.js';
import { type Authority, type ModerationHost, moderate, RANK } from './moderation.js';
import type { PasswordHasher } from './password-hasher.js';

/** What the room service needs from a session. */
export interface RoomMember {
  readonly name: string;
  readonly identityKey: string | undefined;
  readonly identityFingerprint: string | undefined;
  readonly peerJson: string;
  readonly remoteAddress: string;
  readonly open: boolean;
  send(line: string, kind: string): boolean;
  offer(line: string, kind: string): SendResult;
}

export interface RoomServiceOptions {
  store: ServerStore;
  hasher: PasswordHasher;
  lockout: PasswordLockout;
  logger: Logger;
  stats: ServerStats;
  /** Identity fingerprints of server administrators. */
  admins: ReadonlySet<string>;
  /** Room every v2 client with the `rooms` capability joins; undefined = none. */
  lobby?: string;
  now?: () => number;
}

/**
 * Rooms: live membership (who is in which room now) over persisted rooms, roles, bans and
 * password hashes. Membership is enforced here; room messages are opaque sender-key
 * envelopes fanned out to the other members, one serialization per message.
 */
export class RoomService<M extends RoomMember> {
  #o: RoomServiceOptions;
  #live = new Map<string, { name: string; members: Map<string, M> }>();
  #now: () => number;
  #moderation: ModerationHost<M>;

  constructor(options: RoomServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#moderation = {
      options,
      now: () => this.#now(),
      authority: (room, member) => this.#authority(room, member),
      isMember: (room, member) => this.#isMember(room, member),
      online: (key, name) => this.#live.get(key)?.members.get(nameKey(name)),
      broadcast: (key, line) => this.#broadcast(key, line),
      remove: (key, member, event, by, reason) => this.#remove(key, member, event, by, reason),
      error: (member, code, text, ref) => this.#error(member, code, text, ref),
    };
    if (options.lobby && !options.store.getRoom(options.lobby)) {
      options.store.createRoom(options.lobby, undefined, this.#now());
    }
  }

  /** After a v2 welcome: the message of the day, then the lobby. */
  welcome(member: M): void {
    const motd = this.#o.store.getSetting('motd');
    if (motd) member.send(`{"type":"motd","text":${asciiJson(motd)}}\n`, 'motd');
    if (this.#o.lobby && member.identityKey) void this.#join(member, { room: this.#o.lobby });
  }

  /** The member disconnected: leave every room. */
  memberLeft(member: M): void {
    for (const [key, room] of this.#live) {
      if (room.members.get(nameKey(member.name)) === member) this.#remove(key, member, 'part');
    }
  }

  handle(member: M, frame: RoomClientFrame): void {
    if (!member.identityKey) {
      member.send(
        errorLine(
          ErrorCode.NEEDS_IDENTITY,
          'rooms need a v2 session with an identity key',
          frame.id,
        ),
        'error',
      );
      return;
    }
    switch (frame.type) {
      case 'join':
        void this.#join(member, frame);
        return;
      case 'part':
        if (!this.#isMember(frame.room, member)) {
          this.#error(member, ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`, frame.id);
          return;
        }
        this.#remove(roomKey(frame.room), member, 'part');
        return;
      case 'rooms':
        member.send(this.#roomsLine(frame.id), 'rooms');
        return;
      case 'who':
        this.#who(member, frame.room, frame.id);
        return;
      case 'topic':
        this.#topic(member, frame.room, frame.text, frame.id);
        return;
      case 'motd':
        this.#motd(member, frame.text, frame.id);
        return;
      case 'moderate':
        void moderate(this.#moderation, member, frame);
        return;
      case 'roommsg':
        this.#message(member, frame);
        return;
    }
  }

  #error(member: M, code: ErrorCode, text: string, ref?: string): void {
    member.send(errorLine(code, text, ref), 'error');
  }

  #isMember(room: string, member: M): boolean {
    return this.#live.get(roomKey(room))?.members.get(nameKey(member.name)) === member;
  }

  #authority(room: string, member: M): Authority {
    if (member.identityFingerprint && this.#o.admins.has(member.identityFingerprint))
      return 'admin';
    return (member.identityKey && this.#o.store.getRole(room, member.identityKey)) || 'member';
  }

  async #join(member: M, frame: { room: string; password?: string; id?: string }): Promise<void> {
    const { store, lockout, logger, stats } = this.#o;
    const idk = member.identityKey!;
    const now = this.#now();
    if (this.#isMember(frame.room, member)) {
      this.#sendJoined(member, frame.room, frame.id);
      return;
    }
    const locked = lockout.lockedFor(member.remoteAddress, roomKey(frame.room), now);
    if (locked > 0) {
      stats.securityEvents.inc('room_lockout_refused');
      logger.warn({
        event: 'room.lockout_refused',
        room: frame.room,
        user: member.name,
        remote: member.remoteAddress,
      });
      this.#error(
        member,
        ErrorCode.LOCKED_OUT,
        `too many wrong passwords for ${frame.room}: try again in ${Math.ceil(locked / 60_000)} min`,
        frame.id,
      );
      return;
    }
    let room = store.getRoom(frame.room);
    if (!room) {
      store.createRoom(frame.room, idk, now); // the first member owns it
      room = store.getRoom(frame.room)!;
      logger.info({ event: 'room.created', room: room.name, owner: member.name });
    }
    const ban = store.getBan(room.name, idk, now);
    if (ban) {
      stats.securityEvents.inc('room_banned_join');
      this.#error(
        member,
        ErrorCode.BANNED,
        `you are banned from ${room.name}${ban.until ? ` until ${new Date(ban.until).toISOString()}` : ''}`,
        frame.id,
      );
      return;
    }
    const authority = this.#authority(room.name, member);
    if (room.passwordHash && authority === 'member') {
      const ok =
        frame.password !== undefined &&
        (await this.#o.hasher.verify(frame.password, room.passwordHash));
      if (!member.open) return;
      if (!ok) {
        stats.securityEvents.inc('room_bad_password');
        if (lockout.failed(member.remoteAddress, roomKey(room.name), this.#now())) {
          stats.securityEvents.inc('room_lockout');
          logger.warn(
            {
              event: 'room.lockout',
              room: room.name,
              user: member.name,
              remote: member.remoteAddress,
              forMs: lockout.lockMs,
            },
            'too many wrong room passwords',
          );
        }
        this.#error(
          member,
          ErrorCode.BAD_PASSWORD,
          `wrong or missing password for ${room.name}`,
          frame.id,
        );
        return;
      }
      lockout.succeeded(member.remoteAddress, roomKey(room.name));
    }
    const key = roomKey(room.name);
    let live = this.#live.get(key);
    if (!live) {
      live = { name: room.name, members: new Map() };
      this.#live.set(key, live);
    }
    if (live.members.get(nameKey(member.name)) === member) {
      this.#sendJoined(member, room.name, frame.id);
      return;
    }
    live.members.set(nameKey(member.name), member);
    this.#broadcast(
      key,
      `{"type":"room","event":"join","room":"${live.name}","user":"${member.name}","peer":${this.#peerWithRole(live.name, member)}}\n`,
      member,
    );
    this.#sendJoined(member, live.name, frame.id);
  }

  #peerWithRole(room: string, member: M): string {
    const authority = this.#authority(room, member);
    return authority === 'member'
      ? member.peerJson
      : `${member.peerJson.slice(0, -1)},"role":"${authority}"}`;
  }

  #membersJson(key: string): string {
    const live = this.#live.get(key);
    if (!live) return '{}';
    const parts: string[] = [];
    for (const member of live.members.values())
      parts.push(`"${member.name}":${this.#peerWithRole(live.name, member)}`);
    return `{${parts.join(',')}}`;
  }

  #sendJoined(member: M, room: string, id?: string): void {
    const stored = this.#o.store.getRoom(room);
    const ref = id === undefined ? '' : `,"id":"${id}"`;
    member.send(
      `{"type":"joined","room":"${stored?.name ?? room}","topic":${asciiJson(stored?.topic ?? '')},"members":${this.#membersJson(roomKey(room))}${ref}}\n`,
      'room',
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
    const extra = `${by ? `,"by":"${by}"` : ''}${reason ? `,"reason":${asciiJson(reason)}` : ''}`;
    const line = `{"type":"room","event":"${event}","room":"${live.name}","user":"${member.name}"${extra}}\n`;
    this.#broadcast(key, line);
    live.members.delete(nameKey(member.name));
    if (member.open) member.send(line, 'room');
    if (live.members.size === 0) this.#live.delete(key);
  }

  /** Sends `line` to every member of a room except `except`; returns how many got it. */
  #broadcast(key: string, line: string, except?: M): number {
    const live = this.#live.get(key);
    if (!live) return 0;
    let delivered = 0;
    for (const member of [...live.members.values()]) {
      if (member === except) continue;
      if (member.offer(line, 'room') === 'queued') delivered++;
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
    const id = frame.id === undefined ? '' : `,"id":"${frame.id}"`;
    const line = `{"type":"roommsg","room":"${live.name}","from":"${member.name}","alg":"${frame.alg}","header":"${frame.header}","nonce":"${frame.nonce}","cipher":"${frame.cipher}","sig":"${frame.sig}"${id}}\n`;
    const delivered = this.#broadcast(key, line, member);
    this.#o.stats.roomMessages++;
    this.#o.stats.roomDeliveries += delivered;
    if (frame.id !== undefined) member.send(ackLine(frame.id), 'ack');
  }

  #roomsLine(id?: string): string {
    const rooms = this.#o.store.listRooms().map((room) => ({
      room: room.name,
      members: this.#live.get(roomKey(room.name))?.members.size ?? 0,
      topic: room.topic,
      password: room.passwordHash !== undefined,
      ...(room.name === this.#o.lobby ? { lobby: true } : {}),
    }));
    return `${asciiJson({ type: 'rooms', rooms, ...(id === undefined ? {} : { id }) })}\n`;
  }

  #who(member: M, room: string, id?: string): void {
    const stored = this.#o.store.getRoom(room);
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
    const ref = id === undefined ? '' : `,"id":"${id}"`;
    member.send(
      `{"type":"who","room":"${stored.name}","members":${this.#membersJson(roomKey(room))}${ref}}\n`,
      'room',
    );
  }

  #topic(member: M, room: string, text: string | undefined, id?: string): void {
    const stored = this.#o.store.getRoom(room);
    if (!stored) {
      this.#error(member, ErrorCode.NO_SUCH_ROOM, `${room} does not exist`, id);
      return;
    }
    if (text === undefined) {
      member.send(
        `{"type":"room","event":"topic","room":"${stored.name}","text":${asciiJson(stored.topic)}}\n`,
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
    this.#o.store.setRoomTopic(room, text);
    const line = `{"type":"room","event":"topic","room":"${stored.name}","text":${asciiJson(text)},"by":"${member.name}"}\n`;
    this.#broadcast(roomKey(room), line);
    if (!this.#isMember(room, member)) member.send(line, 'room');
  }

  #motd(member: M, text: string | undefined, id?: string): void {
    if (text === undefined) {
      member.send(
        `{"type":"motd","text":${asciiJson(this.#o.store.getSetting('motd') ?? '')}}\n`,
        'motd',
      );
      return;
    }
    if (!member.identityFingerprint || !this.#o.admins.has(member.identityFingerprint)) {
      this.#error(member, ErrorCode.FORBIDDEN, 'only server administrators can set the MOTD', id);
      return;
    }
    this.#o.store.setSetting('motd', text);
    this.#o.logger.info({ event: 'motd.set', by: member.name });
    member.send(`{"type":"motd","text":${asciiJson(text)}}\n`, 'motd');
  }
}
