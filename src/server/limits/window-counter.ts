import { TokenBucket } from './token-bucket.js';

/**
 * Events per key within a sliding window (new names per address per day, ...). Memory is
 * bounded: a key keeps at most as many timestamps as the largest limit asked, and keys whose
 * events all left the window are pruned once there are too many.
 */
export class WindowCounter {
  readonly windowMs: number;
  #events = new Map<string, number[]>();
  #maxKeys: number;

  constructor(windowMs: number, maxKeys = 100_000) {
    this.windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /** Events for `key` within the window ending at `now`. */
  count(key: string, now: number): number {
    const times = this.#recent(key, now);
    return times?.length ?? 0;
  }

  /** Records one event if fewer than `limit` happened within the window; says whether it did. */
  tryAdd(key: string, limit: number, now: number): boolean {
    const times = this.#recent(key, now) ?? [];
    if (times.length >= limit) return false;
    times.push(now);
    if (times.length > limit) times.shift();
    this.#events.set(key, times);
    if (this.#events.size > this.#maxKeys) this.#prune(now);
    return true;
  }

  /** Takes back one event recorded at `at` (a reservation that was not used). */
  remove(key: string, at: number): void {
    const times = this.#events.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (index < 0) return;
    times!.splice(index, 1);
    if (times!.length === 0) this.#events.delete(key);
  }

  #recent(key: string, now: number): number[] | undefined {
    const times = this.#events.get(key);
    if (!times) return undefined;
    while (times.length > 0 && now - times[0]! >= this.windowMs) times.shift();
    if (times.length === 0) this.#events.delete(key);
    return times.length === 0 ? undefined : times;
  }

  #prune(now: number): void {
    for (const key of [...this.#events.keys()]) this.#recent(key, now);
    // Still too many live keys: forget the oldest (their limit restarts, memory stays bounded).
    for (const key of this.#events.keys()) {
      if (this.#events.size <= this.#maxKeys) break;
      this.#events.delete(key);
    }
  }
}

/** A token bucket per key (per identity, per target), created on first use, bounded in number. */
export class KeyedBuckets {
  #rate: number;
  #burst: number;
  #buckets = new Map<string, TokenBucket>();
  #maxKeys: number;

  constructor(ratePerSecond: number, burst: number, maxKeys = 100_000) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
  }

  /** Takes `cost` tokens from `key`'s bucket; false when it has too few. */
  take(key: string, now: number, cost = 1): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#prune(now);
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(cost, now);
  }

  #prune(now: number): void {
    for (const [key, bucket] of this.#buckets)
      if (bucket.available(now) >= this.#burst) this.#buckets.delete(key);
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}
