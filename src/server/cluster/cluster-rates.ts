import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BundleLimits, SharedBundleRates } from '../prekey-service.js';
import { LuaScript, type RedisKeys } from '../store/redis/scripts.js';

/**
 * Sliding windows over several keys at once: every window must have room, then the event
 * is counted in all of them. KEYS: the windows. ARGV: now, member, then (window ms, limit)
 * per key. Returns 0 when taken, else the 1-based index of the first full window.
 */
const TAKE = new LuaScript(`
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local window = tonumber(ARGV[1 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + 2 * i]) then return i end
end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[1 + 2 * i])
end
return 0`);

/** One window of a {@link ClusterRates.take}. */
export interface RateWindow {
  key: string;
  limit: number;
  windowMs: number;
}

export type RateTake = { ok: true; token: string } | { ok: false; index: number };

/**
 * The hostile-peers rate limits that must hold for the whole cluster, not per node: new
 * names per identity / address / in all, bundle requests per requester and one-time
 * prekeys per target, and strikes toward the penalty box. Each is a sorted-set window
 * (`rate:<what>:<key>`, expiring with the window) changed by one script.
 */
export class ClusterRates {
  #redis: Redis;
  #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Counts one event in every window if all have room. */
  async take(windows: readonly RateWindow[], now: number): Promise<RateTake> {
    const token = `${now}:${randomBytes(6).toString('hex')}`;
    const args: Array<string | number> = [now, token];
    for (const w of windows) args.push(w.windowMs, w.limit);
    const full = Number(
      await TAKE.run(
        this.#redis,
        windows.map((w) => this.#keys.key('rate', w.key)),
        args,
      ),
    );
    return full === 0 ? { ok: true, token } : { ok: false, index: full - 1 };
  }

  /** Gives back what {@link take} counted. */
  async refund(windows: readonly RateWindow[], token: string): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const w of windows) pipeline.zrem(this.#keys.key('rate', w.key), token);
    await pipeline.exec();
  }

  /** True when `key` was seen within `ttlMs` (and marks it seen now). */
  async seen(key: string, ttlMs: number): Promise<boolean> {
    const previous = await this.#redis.set(this.#keys.key('seen', key), '1', 'PX', ttlMs, 'GET');
    return previous !== null;
  }
}

const MINUTE = 60_000;

/** The bundle limits of prekey-service.ts for the whole cluster. */
export function sharedBundleRates(rates: ClusterRates, limits: BundleLimits): SharedBundleRates {
  return {
    takeBundle: async (requester, now) =>
      (
        await rates.take(
          [{ key: `bundle:req:${requester}`, limit: limits.perMinute, windowMs: MINUTE }],
          now,
        )
      ).ok,
    takeOpk: async (target, now) =>
      (
        await rates.take(
          [
            {
              key: `bundle:opk:${target}`,
              limit: limits.opksPerTargetPerHour,
              windowMs: 60 * MINUTE,
            },
          ],
          now,
        )
      ).ok,
  };
}
