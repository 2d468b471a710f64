import type { Redis } from 'ioredis';
import { roomKey } from '../../../protocol/index.js';
import type {
  RoomBan,
  RoomCreation,
  RoomQuota,
  RoomRole,
  RoomStore,
  StoredRoom,
} from '../types.js';
import { LuaScript, type RedisKeys } from './scripts.js';

/** KEYS: room, rooms index, roles, owned-by-owner. ARGV: key, name, hash, now, limit?, max, perOwner, owner. */
const CREATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if ARGV[5] == '1' then
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 'server_full' end
  if ARGV[8] ~= '' and redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[7]) then return 'owner_full' end
end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'topic', '', 'pw', ARGV[3], 'at', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[8], 'owner')
  redis.call('SADD', KEYS[4], ARGV[1])
end
return 'created'`);

/** KEYS: room, rooms index, roles, bans, empty index, nodes. ARGV: key, owned prefix. */
const DELETE = new LuaScript(`
local roles = redis.call('HGETALL', KEYS[3])
for i = 1, #roles, 2 do redis.call('SREM', ARGV[2] .. roles[i], ARGV[1]) end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[6])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 1`);

/**
 * Members present (undefined) or the last one gone (since): a room is empty only when no
 * node has members in it. KEYS: room, nodes-with-members, empty index, node's rooms.
 * ARGV: key, node, since ('' = present).
 */
const MARK = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] == '' then
  redis.call('SADD', KEYS[2], ARGV[2])
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[1])
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
return 1`);

/** KEYS: roles, owned-by-identity. ARGV: room key, identity, role ('' = none). */
const SET_ROLE = new LuaScript(`
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[2]) else redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
if ARGV[3] == 'owner' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return 1`);

function toRoom(hash: Record<string, string>): StoredRoom | undefined {
  if (hash.name === undefined) return undefined;
  return {
    name: hash.name,
    topic: hash.topic ?? '',
    ...(hash.pw ? { passwordHash: hash.pw } : {}),
    createdAt: Number(hash.at),
  };
}

/**
 * Rooms, roles and bans in Redis. Emptiness is kept per node (which nodes have members in
 * a room), so a room is marked empty — and may expire — only when its last member on the
 * last node left; a dead node's memberships are dropped by {@link dropNode}.
 */
export class RedisRooms implements RoomStore {
  #redis: Redis;
  #keys: RedisKeys;
  readonly node: string;

  constructor(redis: Redis, keys: RedisKeys, node: string) {
    this.#redis = redis;
    this.#keys = keys;
    this.node = node;
  }

  #room(key: string): string {
    return this.#keys.key('room', key);
  }

  async get(room: string): Promise<StoredRoom | undefined> {
    return toRoom(await this.#redis.hgetall(this.#room(roomKey(room))));
  }

  async list(after: string | undefined, limit: number): Promise<StoredRoom[]> {
    const keys = await this.#redis.zrangebylex(
      this.#keys.key('rooms'),
      after === undefined ? '-' : `(${roomKey(after)}`,
      '+',
      'LIMIT',
      0,
      limit,
    );
    const pipeline = this.#redis.pipeline();
    for (const key of keys) pipeline.hgetall(this.#room(key));
    const rows = (await pipeline.exec()) ?? [];
    return rows.flatMap(([, hash]) => {
      const room = toRoom(hash as Record<string, string>);
      return room ? [room] : [];
    });
  }

  async count(): Promise<number> {
    return this.#redis.zcard(this.#keys.key('rooms'));
  }

  async countOwned(identityKey: string): Promise<number> {
    return this.#redis.scard(this.#keys.key('owned', identityKey));
  }

  async create(
    room: string,
    owner: string | undefined,
    now: number,
    passwordHash?: string,
    limits?: RoomQuota,
  ): Promise<RoomCreation> {
    const key = roomKey(room);
    return (await CREATE.run(
      this.#redis,
      [
        this.#room(key),
        this.#keys.key('rooms'),
        this.#keys.key('role', key),
        this.#keys.key('owned', owner ?? ''),
      ],
      [
        key,
        room,
        passwordHash ?? '',
        now,
        limits ? '1' : '0',
        limits?.maxRooms ?? 0,
        limits?.roomsPerIdentity ?? 0,
        owner ?? '',
      ],
    )) as RoomCreation;
  }

  async setTopic(room: string, topic: string): Promise<void> {
    await this.#setIfExists(room, 'topic', topic);
  }

  async setPassword(room: string, passwordHash: string | undefined): Promise<void> {
    await this.#setIfExists(room, 'pw', passwordHash ?? '');
  }

  async #setIfExists(room: string, field: string, value: string): Promise<void> {
    const key = this.#room(roomKey(room));
    if (await this.#redis.exists(key)) await this.#redis.hset(key, field, value);
  }

  async markEmpty(room: string, since: number | undefined): Promise<void> {
    const key = roomKey(room);
    await MARK.run(
      this.#redis,
      [
        this.#room(key),
        this.#keys.key('roomnodes', key),
        this.#keys.key('roomempty'),
        this.#keys.key('noderooms', this.node),
      ],
      [key, this.node, since === undefined ? '' : since],
    );
  }

  /** A node starting has no members anywhere: it forgets memberships of an earlier run. */
  async markAllEmpty(since: number): Promise<void> {
    await this.dropNode(this.node, since);
  }

  /** Drops the memberships `node` recorded (it stopped or died). */
  async dropNode(node: string, since: number): Promise<void> {
    const rooms = await this.#redis.smembers(this.#keys.key('noderooms', node));
    for (const key of rooms) {
      const nodes = this.#keys.key('roomnodes', key);
      await this.#redis.srem(nodes, node);
      if ((await this.#redis.scard(nodes)) === 0 && (await this.#redis.exists(this.#room(key))))
        await this.#redis.zadd(this.#keys.key('roomempty'), 'NX', since, key);
    }
    await this.#redis.del(this.#keys.key('noderooms', node));
  }

  async emptySince(before: number): Promise<Array<{ name: string; owners: string[] }>> {
    const keys = await this.#redis.zrangebyscore(this.#keys.key('roomempty'), '-inf', `(${before}`);
    const out: Array<{ name: string; owners: string[] }> = [];
    for (const key of keys) {
      const name = await this.#redis.hget(this.#room(key), 'name');
      if (name === null) continue;
      const roles = await this.#redis.hgetall(this.#keys.key('role', key));
      out.push({
        name,
        owners: Object.entries(roles)
          .filter(([, role]) => role === 'owner')
          .map(([identity]) => identity),
      });
    }
    return out;
  }

  async delete(room: string): Promise<void> {
    const key = roomKey(room);
    await DELETE.run(
      this.#redis,
      [
        this.#room(key),
        this.#keys.key('rooms'),
        this.#keys.key('role', key),
        this.#keys.key('ban', key),
        this.#keys.key('roomempty'),
        this.#keys.key('roomnodes', key),
      ],
      [key, this.#keys.key('owned', '')],
    );
  }

  async getRole(room: string, identityKey: string): Promise<RoomRole | undefined> {
    const role = await this.#redis.hget(this.#keys.key('role', roomKey(room)), identityKey);
    return role === 'owner' || role === 'op' ? role : undefined;
  }

  async setRole(room: string, identityKey: string, role: RoomRole | undefined): Promise<void> {
    const key = roomKey(room);
    await SET_ROLE.run(
      this.#redis,
      [this.#keys.key('role', key), this.#keys.key('owned', identityKey)],
      [key, identityKey, role ?? ''],
    );
  }

  async getBan(room: string, identityKey: string, now: number): Promise<RoomBan | undefined> {
    const bans = this.#keys.key('ban', roomKey(room));
    const json = await this.#redis.hget(bans, identityKey);
    if (json === null) return undefined;
    const ban = JSON.parse(json) as RoomBan;
    if (ban.until !== undefined && ban.until <= now) {
      await this.#redis.hdel(bans, identityKey);
      return undefined;
    }
    return ban;
  }

  async setBan(room: string, identityKey: string, ban: RoomBan | undefined): Promise<void> {
    const bans = this.#keys.key('ban', roomKey(room));
    if (ban) await this.#redis.hset(bans, identityKey, JSON.stringify(ban));
    else await this.#redis.hdel(bans, identityKey);
  }
}
