import type { Redis } from 'ioredis';
import {
  ErrorCode,
  encodePeerInfo,
  type HelloFrame,
  nameKey,
  ProtocolError,
} from '../../protocol/index.js';
import type { DirectoryMember, PeerDirectory } from '../directory.js';
import type { Logger } from '../logger.js';
import type { PresenceBroadcaster } from '../presence.js';
import { LuaScript, type RedisKeys } from '../store/redis/scripts.js';
import { type Forward, isRemote, type OnlineEntry, RemoteMember } from './remote-member.js';

/**
 * Claims a name for a session, cluster-wide, atomically. KEYS: online hash. ARGV: name
 * key, entry JSON, node, identity key ('' = v1), node key prefix. Granted when the name is
 * free, held on this node (the local directory decides), held by the same identity
 * elsewhere (that session is replaced), or held by a node that is gone. Returns the
 * replaced entry ('' when none) or false.
 */
const CLAIM = new LuaScript(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local e = cjson.decode(held)
  local alive = redis.call('EXISTS', ARGV[5] .. e.node) == 1
  if e.node ~= ARGV[3] and alive and (ARGV[4] == '' or e.idk ~= ARGV[4]) then return false end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return held
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ''`);

/** Removes a session's entry if it is still that session's. KEYS: online. ARGV: name key, node, sid. */
const RELEASE = new LuaScript(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
local e = cjson.decode(held)
if e.node ~= ARGV[2] or e.sid ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`);

/** Removes every entry of a dead node and returns them. KEYS: online. ARGV: node. */
const REAP = new LuaScript(`
local all = redis.call('HGETALL', KEYS[1])
local gone = {}
for i = 1, #all, 2 do
  local e = cjson.decode(all[i + 1])
  if e.node == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(gone, all[i + 1])
  end
end
return gone`);

/** What presence needs of a local session. */
export interface LocalMember extends DirectoryMember {
  readonly id: string;
  readonly identityKey: string | undefined;
  readonly keySignature: string | undefined;
  readonly version: number;
  replaced(): void;
}

type Event = { op: 'join' | 'leave'; entry: OnlineEntry };

/**
 * Who is online on which node: the online hash (one field per name, the holder's entry),
 * kept by atomic claims and releases, and a presence channel every node listens to, from
 * which each node mirrors the other nodes' users into its directory ({@link RemoteMember})
 * and pushes joins and leaves to its own clients. The hash is the truth: a node reloads it
 * whenever its subscription (re)starts.
 */
export class ClusterPresence {
  #redis: Redis;
  #keys: RedisKeys;
  #node: string;
  #logger: Logger;
  #forward: Forward;
  #kick: (entry: OnlineEntry) => Promise<void>;
  #directory: PeerDirectory<DirectoryMember> | undefined;
  #presence: PresenceBroadcaster<DirectoryMember> | undefined;
  /** Entries of this node's sessions, to register again after Redis lost them. */
  #local = new Map<string, OnlineEntry>();

  constructor(options: {
    redis: Redis;
    keys: RedisKeys;
    node: string;
    logger: Logger;
    forward: Forward;
    kick: (entry: OnlineEntry) => Promise<void>;
  }) {
    this.#kick = options.kick;
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#node = options.node;
    this.#logger = options.logger;
    this.#forward = options.forward;
  }

  get channel(): string {
    return this.#keys.key('presence');
  }
  get #online(): string {
    return this.#keys.key('online');
  }

  attach(
    directory: PeerDirectory<DirectoryMember>,
    presence: PresenceBroadcaster<DirectoryMember>,
  ): void {
    this.#directory = directory;
    this.#presence = presence;
  }

  /** Number of local sessions registered. */
  get localCount(): number {
    return this.#local.size;
  }

  /** Claims `hello.user` for session `sid` before it enters; throws E_NAME_TAKEN when another node holds it. */
  async claim(sid: string, hello: HelloFrame): Promise<void> {
    const entry: OnlineEntry = {
      node: this.#node,
      sid,
      name: hello.user,
      pub: hello.pub,
      peer: encodePeerInfo(hello),
      idk: hello.idk ?? '',
      sig: hello.pubsig ?? '',
      v: hello.v,
    };
    const held = await CLAIM.run(
      this.#redis,
      [this.#online],
      [
        nameKey(hello.user),
        JSON.stringify(entry),
        this.#node,
        entry.idk,
        this.#keys.key('node', ''),
      ],
    );
    if (held === null || held === false || held === 0) {
      throw new ProtocolError(ErrorCode.NAME_TAKEN, `the name "${hello.user}" is already online`);
    }
    this.#local.set(nameKey(hello.user), entry);
    if (typeof held === 'string' && held !== '') {
      // The same identity was online on another node: that node closes it (E_REPLACED),
      // told through its stream (acknowledged), not only by the presence channel.
      const previous = JSON.parse(held) as OnlineEntry;
      if (previous.node !== this.#node) await this.#kick(previous);
    }
  }

  /** Closes this node's session `sid` of `name`: a newer one of the same identity took over elsewhere. */
  kickLocal(name: string, sid: string): void {
    const directory = this.#directory;
    const held = directory?.get(name);
    if (!directory || held === undefined || isRemote(held)) return;
    const local = held as unknown as LocalMember;
    if (local.id !== sid) return;
    this.forget(local);
    directory.remove(held);
    local.replaced();
  }

  /** A claimed session did not enter (closed during admission): give the name back. */
  async unclaim(sid: string, name: string): Promise<void> {
    const entry = this.#local.get(nameKey(name));
    if (entry?.sid !== sid) return;
    this.#local.delete(nameKey(name));
    await RELEASE.run(this.#redis, [this.#online], [nameKey(name), this.#node, sid]);
  }

  /** A local session entered the directory: tell the other nodes. */
  async joined(member: LocalMember): Promise<void> {
    const entry = this.#local.get(nameKey(member.name));
    if (entry === undefined || entry.sid !== member.id) return;
    await this.#publish({ op: 'join', entry });
  }

  /** A local session left: release its name and tell the other nodes. */
  async left(member: LocalMember): Promise<void> {
    const key = nameKey(member.name);
    const entry = this.#local.get(key);
    if (entry === undefined || entry.sid !== member.id) return;
    this.#local.delete(key);
    const released = await RELEASE.run(this.#redis, [this.#online], [key, this.#node, member.id]);
    if (Number(released) === 1) await this.#publish({ op: 'leave', entry });
  }

  /** A local session was replaced by one elsewhere: its entry is no longer this node's. */
  forget(member: { name: string; id: string }): void {
    const key = nameKey(member.name);
    if (this.#local.get(key)?.sid === member.id) this.#local.delete(key);
  }

  async #publish(event: Event): Promise<void> {
    await this.#redis.publish(this.channel, JSON.stringify(event));
  }

  /** Removes a dead node's users from the hash and tells every node. Returns how many. */
  async reap(node: string): Promise<number> {
    const gone = (await REAP.run(this.#redis, [this.#online], [node])) as string[];
    for (const json of gone)
      await this.#publish({ op: 'leave', entry: JSON.parse(json) as OnlineEntry });
    return gone.length;
  }

  /** Registers this node's sessions again (after Redis lost them, or this node was reaped). */
  async reregister(): Promise<void> {
    // Entries of this node whose sessions closed while Redis was unreachable: released now.
    for (const [key, json] of Object.entries(await this.#redis.hgetall(this.#online))) {
      const entry = JSON.parse(json) as OnlineEntry;
      if (entry.node !== this.#node || this.#local.get(key)?.sid === entry.sid) continue;
      const released = await RELEASE.run(this.#redis, [this.#online], [key, this.#node, entry.sid]);
      if (Number(released) === 1) await this.#publish({ op: 'leave', entry });
    }
    for (const [key, entry] of this.#local) {
      const held = await CLAIM.run(
        this.#redis,
        [this.#online],
        [key, JSON.stringify(entry), this.#node, entry.idk, this.#keys.key('node', '')],
      );
      if (held === null || held === false) {
        this.#logger.warn(
          { event: 'cluster.reregister_conflict', user: entry.name },
          'name now held elsewhere',
        );
        continue;
      }
      await this.#publish({ op: 'join', entry });
    }
  }

  /** Mirrors the whole online hash into the directory (at start and after resubscribing). */
  async reload(): Promise<void> {
    const directory = this.#directory;
    if (!directory) return;
    const all = await this.#redis.hgetall(this.#online);
    const seen = new Set<string>();
    for (const json of Object.values(all)) {
      const entry = JSON.parse(json) as OnlineEntry;
      if (entry.node === this.#node) continue;
      seen.add(nameKey(entry.name));
      this.#apply({ op: 'join', entry });
    }
    for (const member of [...directory.members()]) {
      if (isRemote(member) && !seen.has(nameKey(member.name))) this.#removeRemote(member);
    }
  }

  /** A message on the presence channel. */
  message(json: string): void {
    let event: Event;
    try {
      event = JSON.parse(json) as Event;
    } catch {
      return;
    }
    if (event.entry?.node === undefined || event.entry.node === this.#node) return;
    this.#apply(event);
  }

  #apply({ op, entry }: Event): void {
    const directory = this.#directory;
    const presence = this.#presence;
    if (!directory || !presence) return;
    const held = directory.get(entry.name);
    if (op === 'leave') {
      if (isRemote(held) && held.entry.node === entry.node && held.entry.sid === entry.sid)
        this.#removeRemote(held);
      return;
    }
    if (isRemote(held)) {
      if (held.entry.node === entry.node && held.entry.sid === entry.sid) return;
      directory.remove(held);
    } else if (held !== undefined) {
      const local = held as unknown as LocalMember;
      // The same identity connected to another node: this older connection is replaced.
      if (!entry.idk || local.identityKey !== entry.idk) return;
      this.forget(local);
      directory.remove(held);
      local.replaced();
    }
    const remote = new RemoteMember(entry, this.#forward);
    if (directory.tryAdd(remote as unknown as DirectoryMember))
      presence.joined(remote as unknown as DirectoryMember, held !== undefined);
  }

  #removeRemote(member: RemoteMember): void {
    const directory = this.#directory;
    if (!directory?.remove(member as unknown as DirectoryMember)) return;
    this.#presence?.left(member as unknown as DirectoryMember);
  }
}
