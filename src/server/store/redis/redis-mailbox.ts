import type { Redis } from 'ioredis';
import { nameKey } from '../../../protocol/index.js';
import type {
  EnqueueRefusal,
  EnqueueResult,
  FetchedNoticeLimits,
  MailboxQuota,
  MailboxRecipientRule,
  MailboxStore,
  NewStoredMessage,
  StoredMessage,
} from '../types.js';
import { LuaScript, type RedisKeys } from './scripts.js';

/** Shared by the scripts that delete messages: drops one message and its usage. */
const DROP = `
local U = KEYS[1]
local function dec(f, n)
  if redis.call('HINCRBY', U, f, -n) <= 0 then redis.call('HDEL', U, f) end
end
local function drop(seq)
  local mkey = ARGV[1] .. 'm:' .. seq
  local m = redis.call('HMGET', mkey, 'r', 'b', 'p', 's', 'a')
  redis.call('ZREM', KEYS[2], seq)
  if not m[1] then return 0 end
  local b = tonumber(m[2])
  dec('r:' .. m[1] .. ':n', 1)
  dec('r:' .. m[1] .. ':b', b)
  dec('p:' .. m[3] .. ':n', 1)
  dec('s:' .. m[4] .. ':b', b)
  if m[5] ~= '' then dec('a:' .. m[5] .. ':b', b) end
  dec('all:b', b)
  redis.call('DEL', mkey)
  redis.call('ZREM', ARGV[1] .. 'q:' .. m[1], seq)
  return 1
end
`;

const ENQUEUE = new LuaScript(`
local U = KEYS[1]
local function get(f) return tonumber(redis.call('HGET', U, f) or '0') end
if ARGV[1] == '1' then
  local b = redis.call('HMGET', KEYS[4], 'last', 'caps')
  if not b[1] or tonumber(b[1]) < tonumber(ARGV[3]) then return {0, 'no_mailbox'} end
  local ok, caps = pcall(cjson.decode, b[2] or '[]')
  local found = false
  if ok and type(caps) == 'table' then
    for _, c in ipairs(caps) do if c == ARGV[2] then found = true end end
  end
  if not found then return {0, 'no_mailbox'} end
end
local bytes = tonumber(ARGV[4])
if bytes > tonumber(ARGV[5]) then return {0, 'too_large'} end
local r = ARGV[17]
if get('r:' .. r .. ':n') >= tonumber(ARGV[6]) or get('r:' .. r .. ':b') + bytes > tonumber(ARGV[7]) then return {0, 'recipient_full'} end
if get('p:' .. ARGV[8] .. ':n') >= tonumber(ARGV[9]) or get('s:' .. ARGV[10] .. ':b') + bytes > tonumber(ARGV[11]) then return {0, 'sender_quota'} end
if ARGV[12] ~= '' and get('a:' .. ARGV[12] .. ':b') + bytes > tonumber(ARGV[13]) then return {0, 'address_quota'} end
if get('all:b') + bytes > tonumber(ARGV[14]) then return {0, 'server_full'} end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', ARGV[18] .. 'm:' .. seq, 'r', r, 'line', ARGV[15], 'at', ARGV[16], 'b', bytes, 'p', ARGV[8], 's', ARGV[10], 'a', ARGV[12])
redis.call('ZADD', ARGV[18] .. 'q:' .. r, seq, seq)
redis.call('ZADD', KEYS[2], ARGV[16], seq)
redis.call('HINCRBY', U, 'r:' .. r .. ':n', 1)
redis.call('HINCRBY', U, 'r:' .. r .. ':b', bytes)
redis.call('HINCRBY', U, 'p:' .. ARGV[8] .. ':n', 1)
redis.call('HINCRBY', U, 's:' .. ARGV[10] .. ':b', bytes)
if ARGV[12] ~= '' then redis.call('HINCRBY', U, 'a:' .. ARGV[12] .. ':b', bytes) end
redis.call('HINCRBY', U, 'all:b', bytes)
return {1, seq}`);

const PENDING = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[3]) + 1000)
local out = {}
for _, seq in ipairs(ids) do
  if #out >= tonumber(ARGV[3]) * 2 then break end
  local m = redis.call('HMGET', ARGV[4] .. 'm:' .. seq, 'at', 'line')
  if m[1] and tonumber(m[1]) >= tonumber(ARGV[2]) then
    table.insert(out, seq)
    table.insert(out, m[2])
  end
end
return out`);

/** KEYS: usage, all-index, recipient queue. ARGV: prefix, upto. */
const ACKNOWLEDGE = new LuaScript(`${DROP}
local n = 0
for _, seq in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])) do n = n + drop(seq) end
return n`);

/** KEYS: usage, all-index. ARGV: prefix, before, batch. */
const EXPIRE = new LuaScript(`${DROP}
local n = 0
for _, seq in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do n = n + drop(seq) end
return n`);

const EXPIRE_BATCH = 1000;

/**
 * KEYS: the sender's notice set (score = time). ARGV: id, now, max, ttl ms, not-before.
 * Older than the TTL and beyond `max` (the oldest first) are dropped; the set itself
 * expires a TTL after its last notice, so no sweep is needed.
 */
const KEEP_FETCHED = new LuaScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[5])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`);

/** KEYS: the sender's notice set. ARGV: not-before. Returns the ids and deletes the set. */
const TAKE_FETCHED = new LuaScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
redis.call('DEL', KEYS[1])
return ids`);

/**
 * Stored messages in Redis with the same quotas as the SQLite mailbox: usage counters in
 * one hash, kept by the scripts that insert and delete, so a quota check is a few field
 * reads however much is stored.
 */
export class RedisMailbox implements MailboxStore {
  #redis: Redis;
  #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  get #prefix(): string {
    return this.#keys.key('mb', '');
  }
  get #usage(): string {
    return this.#keys.key('mb', 'usage');
  }
  get #all(): string {
    return this.#keys.key('mb', 'all');
  }

  async totalBytes(): Promise<number> {
    return Number((await this.#redis.hget(this.#usage, 'all:b')) ?? 0);
  }

  async enqueue(
    message: NewStoredMessage,
    now: number,
    quota: MailboxQuota,
    rule?: MailboxRecipientRule,
  ): Promise<EnqueueResult> {
    const to = nameKey(message.recipient);
    const from = nameKey(message.sender);
    const result = (await ENQUEUE.run(
      this.#redis,
      [this.#usage, this.#all, this.#keys.key('mb', 'seq'), this.#keys.key('bind', to)],
      [
        rule ? '1' : '0',
        rule?.capability ?? '',
        rule?.seenSince ?? 0,
        message.line.length,
        quota.messageMaxBytes,
        quota.perRecipient,
        quota.recipientBytes,
        `${to}\u0000${from}`,
        quota.perSender,
        message.senderKey,
        quota.senderBytes,
        message.senderAddress ?? '',
        quota.addressBytes,
        quota.totalBytes,
        message.line,
        now,
        to,
        this.#prefix,
      ],
    )) as [number, string | number];
    if (Number(result[0]) === 1) return { ok: true, seq: Number(result[1]) };
    return { ok: false, reason: result[1] as EnqueueRefusal };
  }

  async pending(
    recipient: string,
    afterSeq: number,
    notBefore: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const flat = (await PENDING.run(
      this.#redis,
      [this.#keys.key('mb', 'q', nameKey(recipient))],
      [afterSeq, notBefore, limit, this.#prefix],
    )) as string[];
    const messages: StoredMessage[] = [];
    for (let i = 0; i + 1 < flat.length && messages.length < limit; i += 2)
      messages.push({ seq: Number(flat[i]), line: flat[i + 1] as string });
    return messages;
  }

  async acknowledge(recipient: string, upto: number): Promise<number> {
    return Number(
      await ACKNOWLEDGE.run(
        this.#redis,
        [this.#usage, this.#all, this.#keys.key('mb', 'q', nameKey(recipient))],
        [this.#prefix, upto],
      ),
    );
  }

  async expire(before: number): Promise<number> {
    let total = 0;
    for (let round = 0; round < 10_000; round++) {
      const n = Number(
        await EXPIRE.run(
          this.#redis,
          [this.#usage, this.#all],
          [this.#prefix, before, EXPIRE_BATCH],
        ),
      );
      total += n;
      if (n < EXPIRE_BATCH) break;
    }
    return total;
  }

  async dropRecipient(recipient: string): Promise<number> {
    await this.#redis.del(this.#fetchedKey(recipient));
    return this.acknowledge(recipient, Number.MAX_SAFE_INTEGER);
  }

  #fetchedKey(sender: string): string {
    return this.#keys.key('mb', 'f', nameKey(sender));
  }

  async keepFetched(
    sender: string,
    id: string,
    now: number,
    limits: FetchedNoticeLimits,
  ): Promise<void> {
    const ttlMs = Math.max(1, Math.floor(limits.ttlMs));
    await KEEP_FETCHED.run(
      this.#redis,
      [this.#fetchedKey(sender)],
      [id, now, Math.max(0, limits.max), ttlMs, now - ttlMs],
    );
  }

  async takeFetched(sender: string, notBefore: number): Promise<string[]> {
    return (await TAKE_FETCHED.run(
      this.#redis,
      [this.#fetchedKey(sender)],
      [notBefore],
    )) as string[];
  }
}
