import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run atomically by Redis (EVALSHA, falling back to EVAL once when the
 * server does not know it yet, e.g. after a Redis restart). Each check-then-change of the
 * store is one script, so nodes racing for the same name, prekey or quota cannot both win.
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    redis: Redis,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/** Key names under one prefix (several chats may share a Redis with distinct prefixes). */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  key(...parts: Array<string | number>): string {
    return [this.prefix, ...parts].join(':');
  }
}
