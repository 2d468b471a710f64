import type { Redis } from 'ioredis';
import type { ConnectionGate } from '../limits/connection-gate.js';
import type { AdmitRefusal } from '../limits/connection-limiter.js';
import type { Logger } from '../logger.js';
import { LuaScript, type RedisKeys } from '../store/redis/scripts.js';

/**
 * Takes a connection slot for the cluster. KEYS: the cluster's counts, this node's counts,
 * the address's penalty key. ARGV: address field, max connections, max per address.
 * Returns 0 when taken, 1 global cap, 2 per-address cap, 3 penalized.
 */
const OPEN = new LuaScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 3 end
if tonumber(redis.call('HGET', KEYS[1], 'all') or '0') >= tonumber(ARGV[2]) then return 1 end
if tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') >= tonumber(ARGV[3]) then return 2 end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  redis.call('HINCRBY', key, 'all', 1)
  redis.call('HINCRBY', key, ARGV[1], 1)
end
return 0`);

/**
 * Gives a slot back. KEYS: the cluster's counts, this node's counts. ARGV: address field.
 * Only what this node holds is given back, so a count never goes below zero.
 */
const CLOSE = new LuaScript(`
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') <= 0 then return 0 end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  for _, field in ipairs({'all', ARGV[1]}) do
    if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
  end
end
return 1`);

/**
 * Replaces a node's counts: takes what the node held out of the cluster's counts, then
 * puts in the pairs (field, count) of ARGV. KEYS: the cluster's counts, the node's counts.
 * With no ARGV it gives back everything a node held (a node stopped or reaped).
 */
const RESET = new LuaScript(`
local held = redis.call('HGETALL', KEYS[2])
for i = 1, #held, 2 do
  if redis.call('HINCRBY', KEYS[1], held[i], -tonumber(held[i + 1])) <= 0 then
    redis.call('HDEL', KEYS[1], held[i])
  end
end
redis.call('DEL', KEYS[2])
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 0`);

const REFUSALS: Record<number, AdmitRefusal> = { 1: 'global_cap', 2: 'per_ip_cap', 3: 'penalized' };

/** How long an accept waits for Redis before admitting on this node's own limits. */
const DEFAULT_WAIT_MS = 1000;

export interface ClusterConnectionLimits {
  maxConnections: number;
  maxPerIp: number;
}

/**
 * The connection caps for the whole cluster: the global cap and the per-address count
 * (`securechat:conns`, a hash `all` / `a:<address>` → open connections) and the penalty box
 * (`securechat:penalized:<address>`, set by the node that penalized it, expiring with the
 * penalty). Each node also keeps what it holds in `securechat:conns:<node>`, so the slots
 * of a node that dies are given back when it is reaped, and a node that reconnects after
 * losing Redis (and every node at each heartbeat) puts in exactly what it holds now.
 *
 * The node's own {@link ConnectionLimiter} is checked first (a refusal costs no round
 * trip) and stays the floor: while Redis cannot be reached (an error, or no answer within
 * `waitMs`) a connection is admitted on the node's own limits alone, logged at most once a
 * minute.
 */
export class ClusterConnections implements ConnectionGate {
  #redis: Redis;
  #keys: RedisKeys;
  #node: string;
  #limits: ClusterConnectionLimits;
  #logger: Logger;
  #waitMs: number;
  /** Open connections per address this node counts in Redis (what `conns:<node>` holds). */
  #counted = new Map<string, number>();
  #lastWarning = 0;

  constructor(options: {
    redis: Redis;
    keys: RedisKeys;
    node: string;
    limits: ClusterConnectionLimits;
    logger: Logger;
    waitMs?: number;
  }) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#node = options.node;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  }

  get #totals(): string {
    return this.#keys.key('conns');
  }
  #held(node: string): string {
    return this.#keys.key('conns', node);
  }
  penaltyKey(address: string): string {
    return this.#keys.key('penalized', address);
  }

  async open(address: string): Promise<AdmitRefusal | undefined> {
    if (this.#redis.status !== 'ready') {
      this.#unreachable('not connected');
      return undefined;
    }
    const asked = OPEN.run(
      this.#redis,
      [this.#totals, this.#held(this.#node), this.penaltyKey(address)],
      [`a:${address}`, this.#limits.maxConnections, this.#limits.maxPerIp],
    ).then((answer) => {
      const code = Number(answer);
      if (code === 0) this.#counted.set(address, (this.#counted.get(address) ?? 0) + 1);
      return code;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#waitMs);
    });
    try {
      const code = await Promise.race([asked, late]);
      if (code === 'late') {
        // Admitted on local limits; if Redis counts it after all, give the slot back.
        asked.then((c) => (c === 0 ? this.close(address) : undefined)).catch(() => {});
        this.#unreachable('no answer');
        return undefined;
      }
      return REFUSALS[code];
    } catch (error) {
      this.#unreachable(error instanceof Error ? error.message : String(error));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  close(address: string): void {
    const count = this.#counted.get(address);
    if (count === undefined) return;
    if (count <= 1) this.#counted.delete(address);
    else this.#counted.set(address, count - 1);
    CLOSE.run(this.#redis, [this.#totals, this.#held(this.#node)], [`a:${address}`]).catch(() => {
      // Redis unreachable: the count is put right at the next heartbeat (resync).
    });
  }

  /** Puts this node's current connections (address → count) in place of what Redis held for it. */
  async resync(open: ReadonlyMap<string, number>): Promise<void> {
    const args: Array<string | number> = [];
    let all = 0;
    for (const [address, count] of open) {
      args.push(`a:${address}`, count);
      all += count;
    }
    if (all > 0) args.push('all', all);
    await RESET.run(this.#redis, [this.#totals, this.#held(this.#node)], args);
    this.#counted = new Map(open);
  }

  /** Gives back every slot `node` held (it stopped or was reaped). */
  async release(node: string): Promise<void> {
    await RESET.run(this.#redis, [this.#totals, this.#held(node)], []);
    if (node === this.#node) this.#counted.clear();
  }

  /**
   * Records a penalty for the whole cluster: every node refuses an address at accept, and
   * loads every penalty (identities too) when it starts or resubscribes ({@link penalties}).
   */
  async penalize(key: string, forMs: number): Promise<void> {
    await this.#redis.set(this.penaltyKey(key), '1', 'PX', Math.max(1, forMs));
  }

  /**
   * The penalties in force (key → epoch ms they end), at most `limit` of them: what a node
   * that started later, or missed the publish while its subscription was down, must know.
   */
  async penalties(now: number, limit = 100_000): Promise<Array<[string, number]>> {
    const prefix = this.penaltyKey('');
    const found: Array<[string, number]> = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.#redis.pipeline();
      for (const key of keys) pipeline.pttl(key);
      const ttls = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const ttl = Number(ttls[i]?.[1] ?? -2);
        if (ttl > 0) found.push([key.slice(prefix.length), now + ttl]);
      });
    } while (cursor !== '0' && found.length < limit);
    return found.slice(0, limit);
  }

  #unreachable(why: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < 60_000) return;
    this.#lastWarning = now;
    this.#logger.warn(
      { event: 'cluster.limits_local', why },
      "shared connection counts unreachable: admitting on this node's own limits",
    );
  }
}
