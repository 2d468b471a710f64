import { Redis } from 'ioredis';
import {
  type KemPrekeyWire,
  nameKey,
  type OneTimePrekey,
  type SignedPrekeyKind,
} from '../../../protocol/index.js';
import { ESTABLISHED_AFTER_MS } from '../sqlite-store.js';
import type {
  IdentityBinding,
  KemPrekeyTake,
  NameClaim,
  NameLifetimes,
  PrekeyTake,
  ServerStore,
  StoredSignedPrekey,
} from '../types.js';
import { RedisLockout } from './redis-lockout.js';
import { RedisMailbox } from './redis-mailbox.js';
import { RedisRooms } from './redis-rooms.js';
import { LuaScript, RedisKeys } from './scripts.js';

const CLAIM = new LuaScript(`
local held = redis.call('HGET', KEYS[1], 'idk')
if held then
  if held == ARGV[3] then return 0 end
  return -1
end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[5]) then return -2 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'idk', ARGV[3], 'caps', '[]', 'first', ARGV[4], 'last', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return 1`);

const TOUCH = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
if ARGV[3] then redis.call('HSET', KEYS[1], 'pub', ARGV[3], 'pubsig', ARGV[4], 'caps', ARGV[5]) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1`);

/** Frees a binding if it is still expired (checked again inside the script). */
const FREE = new LuaScript(`
local b = redis.call('HMGET', KEYS[1], 'idk', 'first', 'last')
if not b[1] then return 0 end
local first, last = tonumber(b[2]), tonumber(b[3])
local established = last - first >= tonumber(ARGV[2])
if not ((not established and last < tonumber(ARGV[3])) or last < tonumber(ARGV[4])) then return 0 end
for i = 1, #KEYS do if i ~= 2 then redis.call('DEL', KEYS[i]) end end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', ARGV[5] .. b[1], ARGV[1])
return 1`);

const ADD_PREKEYS = new LuaScript(`
if ARGV[1] == '1' then redis.call('DEL', KEYS[1], KEYS[2]) end
local max = tonumber(ARGV[2])
local count = redis.call('HLEN', KEYS[1])
for i = 4, #ARGV, 2 do
  if count >= max then break end
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
  count = redis.call('HLEN', KEYS[1])
end
return count`);

const TAKE_PREKEY = new LuaScript(`
local ids = redis.call('ZRANGE', KEYS[2], 0, 0)
if #ids == 0 then return {} end
local pub = redis.call('HGET', KEYS[1], ids[1])
redis.call('ZREM', KEYS[2], ids[1])
redis.call('HDEL', KEYS[1], ids[1])
return {ids[1], pub, redis.call('HLEN', KEYS[1])}`);

const PUT_SPK = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1] .. ':current')
if cur then
  local c = cjson.decode(cur)
  if c.id == tonumber(ARGV[3]) and c.pub == ARGV[4] then return {1, cur} end
  if tonumber(ARGV[5]) <= tonumber(c.created) then return {0, cur} end
  redis.call('HSET', KEYS[1], ARGV[1] .. ':previous', cur)
else
  redis.call('HDEL', KEYS[1], ARGV[1] .. ':previous')
end
redis.call('HSET', KEYS[1], ARGV[1] .. ':current', ARGV[2])
return {1, ARGV[2]}`);

/** One-time prekey ids are zero-padded so equal upload times sort by id. */
const padId = (id: number) => id.toString().padStart(10, '0');

export interface RedisStoreOptions {
  /** Key prefix (default `securechat`). */
  prefix?: string;
  /** This node's id: rooms record which nodes have members in them. */
  nodeId?: string;
}

/**
 * The shared store of a cluster: the same {@link ServerStore} as SQLite, in Redis (7.x,
 * standalone), every check-then-change one Lua script so nodes racing for a name, a
 * one-time prekey, a quota or a password attempt cannot both win. Key schema: see
 * docs/OPERATIONS.md, "Scaling out".
 */
export class RedisStore implements ServerStore {
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly mailbox: RedisMailbox;
  readonly rooms: RedisRooms;
  readonly lockout: RedisLockout;
  #owned: boolean;

  /** Uses `redis` (an ioredis client, e.g. the cluster node's) or connects to a URL. */
  constructor(redis: Redis | string, options: RedisStoreOptions = {}) {
    this.#owned = typeof redis === 'string';
    this.redis = typeof redis === 'string' ? new Redis(redis, { maxRetriesPerRequest: 1 }) : redis;
    this.keys = new RedisKeys(options.prefix ?? 'securechat');
    this.mailbox = new RedisMailbox(this.redis, this.keys);
    this.rooms = new RedisRooms(this.redis, this.keys, options.nodeId ?? 'single');
    this.lockout = new RedisLockout(this.redis, this.keys);
  }

  #bind(key: string): string {
    return this.keys.key('bind', key);
  }

  async getBinding(name: string): Promise<IdentityBinding | undefined> {
    return toBinding(await this.redis.hgetall(this.#bind(nameKey(name))));
  }

  async claimName(
    name: string,
    identityKey: string,
    now: number,
    limits: { namesPerIdentity: number },
  ): Promise<NameClaim> {
    const key = nameKey(name);
    const result = Number(
      await CLAIM.run(
        this.redis,
        [this.#bind(key), this.keys.key('idnames', identityKey), this.keys.key('binds')],
        [key, name, identityKey, now, limits.namesPerIdentity],
      ),
    );
    if (result === -2) return { ok: false, reason: 'identity_cap' };
    const binding = await this.getBinding(name);
    if (!binding) throw new Error('identity binding vanished after claim');
    if (result === -1) return { ok: false, reason: 'bound', binding };
    return { ok: true, binding, created: result === 1 };
  }

  async touchBinding(
    name: string,
    now: number,
    published?: { pub: string; pubsig: string; caps: string[] },
  ): Promise<void> {
    const key = nameKey(name);
    const args: Array<string | number> = [key, now];
    if (published) args.push(published.pub, published.pubsig, JSON.stringify(published.caps));
    await TOUCH.run(this.redis, [this.#bind(key), this.keys.key('binds')], args);
  }

  async touchBindings(names: readonly string[], now: number): Promise<void> {
    await Promise.all(names.map((name) => this.touchBinding(name, now)));
  }

  async countBindings(identityKey: string): Promise<number> {
    return this.redis.scard(this.keys.key('idnames', identityKey));
  }

  async expireBindings(
    now: number,
    lifetimes: NameLifetimes,
    keep: (name: string) => boolean,
  ): Promise<string[]> {
    const trialBefore = now - lifetimes.trialTtlMs;
    const before = now - lifetimes.ttlMs;
    const candidates = await this.redis.zrangebyscore(
      this.keys.key('binds'),
      '-inf',
      `(${Math.max(trialBefore, before)}`,
    );
    const freed: string[] = [];
    for (const key of candidates) {
      const binding = await this.getBinding(key);
      if (!binding || keep(binding.name)) continue;
      const done = await FREE.run(
        this.redis,
        [
          this.#bind(key),
          this.keys.key('binds'),
          this.keys.key('opk', key),
          this.keys.key('opkq', key),
          this.keys.key('spk', key),
          this.keys.key('kem', key),
          this.keys.key('kemq', key),
        ],
        [key, ESTABLISHED_AFTER_MS, trialBefore, before, this.keys.key('idnames', '')],
      );
      if (Number(done) !== 1) continue;
      await this.mailbox.dropRecipient(binding.name);
      freed.push(binding.name);
    }
    return freed;
  }

  /** Adds one-time keys (`opk`: X25519, `kem`: ML-KEM) as id → value, in upload order. */
  async #addOneTime(
    kind: 'opk' | 'kem',
    name: string,
    entries: Array<[id: number, value: string]>,
    max: number,
    now: number,
    replace: boolean,
  ): Promise<number> {
    const key = nameKey(name);
    const args: Array<string | number> = [replace ? '1' : '0', max, now];
    for (const [id, value] of entries) args.push(padId(id), value);
    const keys = [this.keys.key(kind, key), this.keys.key(`${kind}q`, key)];
    return Number(await ADD_PREKEYS.run(this.redis, keys, args));
  }

  /** Takes the oldest one-time key of `kind` atomically: `[id, value, left]`, or none. */
  async #takeOneTime(kind: 'opk' | 'kem', name: string): Promise<[string, string, number] | []> {
    const key = nameKey(name);
    const keys = [this.keys.key(kind, key), this.keys.key(`${kind}q`, key)];
    return (await TAKE_PREKEY.run(this.redis, keys, [])) as [string, string, number] | [];
  }

  async addPrekeys(
    name: string,
    keys: OneTimePrekey[],
    max: number,
    now: number,
    replace = false,
  ): Promise<number> {
    const entries = keys.map((k): [number, string] => [k.id, k.pub]);
    return this.#addOneTime('opk', name, entries, max, now, replace);
  }

  async takePrekey(name: string): Promise<PrekeyTake> {
    const taken = await this.#takeOneTime('opk', name);
    if (taken.length === 0) return { prekey: undefined, left: 0 };
    return { prekey: { id: Number(taken[0]), pub: taken[1] }, left: Number(taken[2]) };
  }

  async countPrekeys(name: string): Promise<number> {
    return this.redis.hlen(this.keys.key('opk', nameKey(name)));
  }

  /** One-time KEM prekeys (PQXDH): the same scripts over `kem`/`kemq`, each key as JSON. */
  async addKemPrekeys(
    name: string,
    keys: KemPrekeyWire[],
    max: number,
    now: number,
    replace = false,
  ): Promise<number> {
    const entries = keys.map((k): [number, string] => [k.id, JSON.stringify(k)]);
    return this.#addOneTime('kem', name, entries, max, now, replace);
  }

  async takeKemPrekey(name: string): Promise<KemPrekeyTake> {
    const taken = await this.#takeOneTime('kem', name);
    if (taken.length === 0) return { prekey: undefined, left: 0 };
    return { prekey: JSON.parse(taken[1]) as KemPrekeyWire, left: Number(taken[2]) };
  }

  async countKemPrekeys(name: string): Promise<number> {
    return this.redis.hlen(this.keys.key('kem', nameKey(name)));
  }

  async putSignedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    prekey: StoredSignedPrekey,
    _now: number,
  ): Promise<{ current: StoredSignedPrekey; accepted: boolean }> {
    const json = JSON.stringify(prekey);
    const [accepted, current] = (await PUT_SPK.run(
      this.redis,
      [this.keys.key('spk', nameKey(name))],
      [kind, json, prekey.id, prekey.pub, prekey.created],
    )) as [number, string];
    return { current: JSON.parse(current) as StoredSignedPrekey, accepted: Number(accepted) === 1 };
  }

  async signedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    slot: 'current' | 'previous' = 'current',
  ): Promise<StoredSignedPrekey | undefined> {
    const json = await this.redis.hget(this.keys.key('spk', nameKey(name)), `${kind}:${slot}`);
    return json ? (JSON.parse(json) as StoredSignedPrekey) : undefined;
  }

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.key('settings'), key)) ?? undefined;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.redis.hset(this.keys.key('settings'), key, value);
  }

  async close(): Promise<void> {
    if (this.#owned && this.redis.status !== 'end') await this.redis.quit().catch(() => {});
  }
}

function toBinding(hash: Record<string, string>): IdentityBinding | undefined {
  if (hash.idk === undefined || hash.name === undefined) return undefined;
  let caps: string[] = [];
  try {
    const parsed = JSON.parse(hash.caps ?? '[]') as unknown;
    if (Array.isArray(parsed)) caps = parsed.filter((c): c is string => typeof c === 'string');
  } catch {
    caps = [];
  }
  return {
    name: hash.name,
    identityKey: hash.idk,
    ...(hash.pub ? { pub: hash.pub } : {}),
    ...(hash.pubsig ? { pubsig: hash.pubsig } : {}),
    caps,
    firstSeen: Number(hash.first),
    lastSeen: Number(hash.last),
  };
}
