import type { Redis } from 'ioredis';
import type { LockoutPolicy, LockoutStore } from '../types.js';
import { LuaScript, type RedisKeys } from './scripts.js';

/** KEYS: lock, failures. ARGV: now, attempts, window, unique member. */
const RESERVE = new LuaScript(`
local lockedUntil = tonumber(redis.call('GET', KEYS[1]) or '0')
if lockedUntil > tonumber(ARGV[1]) then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`);

/** KEYS: lock, failures. ARGV: ok, now, attempts, window, lockMs. */
const SETTLE = new LuaScript(`
if ARGV[1] == '1' then redis.call('DEL', KEYS[2]) return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[4]))
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[3]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[5]), 'PX', ARGV[5])
return 1`);

/**
 * Room-password attempts per (source, room) shared by every node: a sorted set of
 * reserved attempts (expiring with the window) and a lock key (expiring with the lockout),
 * changed by one script each, so guesses spread over several nodes count together.
 */
export class RedisLockout implements LockoutStore {
  #redis: Redis;
  #keys: RedisKeys;
  #counter = 0;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  #pair(source: string, room: string): [string, string] {
    const id = `${source}|${room}`;
    return [this.#keys.key('lock', id), this.#keys.key('fail', id)];
  }

  async lockedFor(
    source: string,
    room: string,
    now: number,
    _policy: LockoutPolicy,
  ): Promise<number> {
    const until = Number((await this.#redis.get(this.#pair(source, room)[0])) ?? 0);
    return until > now ? until - now : 0;
  }

  async reserve(
    source: string,
    room: string,
    now: number,
    policy: LockoutPolicy,
  ): Promise<boolean> {
    const member = `${now}:${process.pid}:${++this.#counter}:${Math.random().toString(36).slice(2)}`;
    const result = await RESERVE.run(this.#redis, this.#pair(source, room), [
      now,
      policy.attempts,
      policy.windowMs,
      member,
    ]);
    return Number(result) === 1;
  }

  async settle(
    source: string,
    room: string,
    ok: boolean,
    now: number,
    policy: LockoutPolicy,
  ): Promise<boolean> {
    const result = await SETTLE.run(this.#redis, this.#pair(source, room), [
      ok ? '1' : '0',
      now,
      policy.attempts,
      policy.windowMs,
      policy.lockMs,
    ]);
    return Number(result) === 1;
  }
}
