import {
  type ErrorCode,
  encodeError,
  encodeJoined,
  encodeMemberInfo,
  encodeMembersMap,
  encodeRoomEvent,
  encodeRoomMessageDelivery,
  nameKey,
  type RoomMessageFrame,
  roomKey,
} from '../../protocol/index.js';
import type { Authority, RoomMember, RoomServiceOptions } from './room-host.js';

interface LiveRoom<M> {
  /** The room's stored (display) name. */
  name: string;
  members: Map<string, M>;
}

/**
 * Who is in which room now (live state over the persisted rooms), and what the members hear:
 * membership events (essential: pushed, never dropped, since room keys depend on them) and
 * room messages (offered: a member that is not reading misses them and is told how many),
 * both through the one router. What joining and moderation use of the rooms.
 */
export class LiveRooms<M extends RoomMember> {
  readonly options: RoomServiceOptions;
  #rooms = new Map<string, LiveRoom<M>>();
  /**
   * The rooms (by key) each member entered on this node, so a disconnect leaves its own
   * rooms without looking through every live room. May name a room the member has since
   * been replaced in (a newer session of the name): {@link roomsOf} checks.
   */
  #entered = new WeakMap<M, Set<string>>();

  constructor(options: RoomServiceOptions) {
    this.options = options;
  }

  now(): number {
    return this.options.clock.now();
  }

  has(key: string): boolean {
    return this.#rooms.has(key);
  }

  size(key: string): number {
    return this.#rooms.get(key)?.members.size ?? 0;
  }

  isMember(room: string, member: M): boolean {
    return this.#rooms.get(roomKey(room))?.members.get(nameKey(member.name)) === member;
  }

  /** The member of that room (by room key) now online under that name. */
  online(key: string, name: string): M | undefined {
    return this.#rooms.get(key)?.members.get(nameKey(name));
  }

  /** Names of the members of a room (by key) on this node now. */
  memberNames(key: string): string[] {
    return [...(this.#rooms.get(key)?.members.values() ?? [])].map((m) => m.name);
  }

  /** Rooms `member` is in, by key: O(its rooms), not O(live rooms). */
  roomsOf(member: M): string[] {
    const entered = this.#entered.get(member);
    if (entered === undefined) return [];
    const name = nameKey(member.name);
    const keys: string[] = [];
    for (const key of entered) {
      if (this.#rooms.get(key)?.members.get(name) === member) keys.push(key);
      else entered.delete(key);
    }
    return keys;
  }

  /** Server admins above all, then the stored role, else a plain member. */
  async authority(room: string, member: M): Promise<Authority> {
    if (member.identityFingerprint && this.options.admins.has(member.identityFingerprint))
      return 'admin';
    const role = member.identityKey
      ? await this.options.store.rooms.getRole(room, member.identityKey)
      : undefined;
    return role ?? 'member';
  }

  /** Answers `member` with an error frame. */
  refuse(member: M, code: ErrorCode, text: string, ref?: string): void {
    member.send(encodeError(code, text, ref), 'error');
  }

  /** Adds a member to the live room (announcing it to the others) and answers `joined`. */
  async admit(
    member: M,
    room: string,
    id: string | undefined,
    created?: { password: boolean },
  ): Promise<void> {
    const { store } = this.options;
    const key = roomKey(room);
    const stored = await store.rooms.get(room);
    if (!member.open) return;
    let live = this.#rooms.get(key);
    if (!live) {
      live = { name: stored?.name ?? room, members: new Map() };
      this.#rooms.set(key, live);
      await store.rooms.markEmpty(live.name, undefined);
      // A network store answers later: a member that left meanwhile was in no room to leave.
      if (!member.open) {
        if (live.members.size === 0 && this.#rooms.get(key) === live) {
          this.#rooms.delete(key);
          await store.rooms.markEmpty(live.name, this.now());
        }
        return;
      }
    }
    const name = nameKey(member.name);
    if (live.members.get(name) !== member) {
      live.members.set(name, member);
      const entered = this.#entered.get(member);
      if (entered === undefined) this.#entered.set(member, new Set([key]));
      else entered.add(key);
      // A member that left during an await was taken out (and its part announced): its join
      // is not announced after that, here or to the other nodes.
      const peerJson = await this.#memberJson(live.name, member);
      if (live.members.get(name) !== member) return;
      await this.options.bus?.entered(key, member.name, peerJson);
      if (live.members.get(name) !== member) return;
      this.broadcast(
        key,
        encodeRoomEvent({ event: 'join', room: live.name, user: member.name, peerJson }),
        member,
      );
    }
    const members = await this.membersJson(key);
    member.send(
      encodeJoined(live.name, stored?.topic ?? '', members, {
        ...(created ? { created: true, password: created.password } : {}),
        id,
      }),
      'room',
    );
  }

  /** Takes `member` out of the room, telling everyone (and it) why. */
  async remove(
    key: string,
    member: M,
    event: 'part' | 'kick' | 'ban',
    by?: string,
    reason?: string,
  ): Promise<void> {
    const live = this.#rooms.get(key);
    if (!live || live.members.get(nameKey(member.name)) !== member) return;
    const line = encodeRoomEvent({
      event,
      room: live.name,
      user: member.name,
      ...(by ? { by } : {}),
      ...(reason ? { reason } : {}),
    });
    // The others by broadcast, the member removed by its own copy: once each.
    this.broadcast(key, line, member);
    live.members.delete(nameKey(member.name));
    this.#entered.get(member)?.delete(key);
    await this.options.bus?.exited(key, member.name);
    if (member.open) member.send(line, 'room');
    if (live.members.size === 0) {
      this.#rooms.delete(key);
      await this.options.store.rooms.markEmpty(live.name, this.now());
    }
  }

  /** A membership or settings event to every member except `except`; how many got it. */
  broadcast(key: string, line: string, except?: M): number {
    this.options.bus?.publish(key, line, true, except?.name);
    return this.deliver(key, line, true, except?.name);
  }

  /** A line to this node's members of the room except `exceptName` (from here or another node). */
  deliver(key: string, line: string, essential: boolean, exceptName?: string): number {
    const live = this.#rooms.get(key);
    if (!live) return 0;
    const except = exceptName === undefined ? undefined : live.members.get(nameKey(exceptName));
    if (!essential) {
      return this.options.router.fanOut(
        live.members.values(),
        line,
        { essential: false, kind: 'roommsg' },
        except,
        (missed) => missed.missedRoomMessage(live.name),
      );
    }
    return this.options.router.fanOut(
      live.members.values(),
      line,
      { essential: true, kind: 'room' },
      except,
    );
  }

  /** A room message from `member` to the others (who must be a member: checked by the caller). */
  message(member: M, frame: RoomMessageFrame): number {
    const live = this.#rooms.get(roomKey(frame.room));
    if (!live) return 0;
    const line = encodeRoomMessageDelivery(member.name, live.name, frame);
    this.options.bus?.publish(roomKey(frame.room), line, false, member.name);
    return this.deliver(roomKey(frame.room), line, false, member.name);
  }

  /** Another node's moderator removes this node's member `name` from the room. */
  async removeLocal(
    key: string,
    name: string,
    event: 'part' | 'kick' | 'ban',
    by?: string,
    reason?: string,
  ): Promise<void> {
    const member = this.online(key, name);
    if (member) await this.remove(key, member, event, by, reason);
  }

  /**
   * After this node missed what other nodes published (its subscription dropped): members
   * banned meanwhile are removed, and every member gets an unasked `joined` snapshot (topic,
   * members, roles), from which clients apply only what changed.
   */
  async resync(): Promise<void> {
    const { store } = this.options;
    for (const [key, live] of [...this.#rooms]) {
      for (const member of [...live.members.values()]) {
        const ban = member.identityKey
          ? await store.rooms.getBan(live.name, member.identityKey, this.now())
          : undefined;
        if (ban) await this.remove(key, member, 'ban', ban.bannedBy);
      }
      if (this.#rooms.get(key) !== live) continue;
      const stored = await store.rooms.get(live.name);
      const snapshot = encodeJoined(live.name, stored?.topic ?? '', await this.membersJson(key));
      for (const member of live.members.values()) if (member.open) member.send(snapshot, 'room');
    }
  }

  /** JSON of the room's member map (each with its role). */
  async membersJson(key: string): Promise<string> {
    const live = this.#rooms.get(key);
    const entries: Array<[string, string]> = [];
    for (const member of [...(live?.members.values() ?? [])])
      entries.push([member.name, await this.#memberJson(live!.name, member)]);
    const here = new Set(entries.map(([name]) => nameKey(name)));
    for (const [name, json] of (await this.options.bus?.remoteMembers(key)) ?? [])
      if (!here.has(nameKey(name))) entries.push([name, json]);
    return encodeMembersMap(entries);
  }

  async #memberJson(room: string, member: M): Promise<string> {
    const authority = await this.authority(room, member);
    return encodeMemberInfo(member.peerJson, authority === 'member' ? undefined : authority);
  }
}
