import { TokenBucket } from './token-bucket.js';

export interface RateLimits {
  /** Frames per second allowed per connection (sustained). */
  framesPerSecond: number;
  /** Frames allowed in a burst. */
  frameBurst: number;
  /** Bytes per second allowed per connection (sustained). */
  bytesPerSecond: number;
  /** Bytes allowed in a burst (at least the longest line). */
  byteBurst: number;
  /** Rate-limited frames within `abuseWindowMs` that get the connection closed. */
  abuseLimit: number;
  abuseWindowMs: number;
}

export type RateVerdict = 'ok' | 'limited' | 'abusive';

/** One connection's frame and byte buckets, and the count that turns limiting into abuse. */
export class SessionRate {
  #frames: TokenBucket;
  #bytes: TokenBucket;
  #limits: RateLimits;
  #windowStart: number;
  #limitedInWindow = 0;

  constructor(limits: RateLimits, now: number) {
    this.#limits = limits;
    this.#frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst, now);
    this.#bytes = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now);
    this.#windowStart = now;
  }

  /**
   * Charges all `count` lines of one read (`bytes` in all) at once when every one of them
   * fits, and says so; charges nothing and answers false otherwise (then call
   * {@link check} per line). When all fit, `count` calls of `check` would each have said
   * `ok` and left the buckets exactly where this leaves them: token counts stay below 2^53
   * and costs are integers, so subtracting them one by one or summed is exact either way.
   */
  takeAll(count: number, bytes: number, now: number): boolean {
    if (this.#frames.available(now) < count || this.#bytes.available(now) < bytes) return false;
    this.#frames.take(count, now);
    this.#bytes.take(bytes, now);
    return true;
  }

  /** Charges one line of `bytes`; says whether it may be processed. */
  check(bytes: number, now: number): RateVerdict {
    if (this.#frames.take(1, now) && this.#bytes.take(bytes, now)) return 'ok';
    if (now - this.#windowStart > this.#limits.abuseWindowMs) {
      this.#windowStart = now;
      this.#limitedInWindow = 0;
    }
    this.#limitedInWindow++;
    return this.#limitedInWindow > this.#limits.abuseLimit ? 'abusive' : 'limited';
  }
}
