/**
 * A token bucket: `rate` tokens per second, holding at most `burst`. Time is passed in
 * (milliseconds, monotonic) so the bucket is pure and testable.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number;

  constructor(rate: number, burst: number, now: number) {
    if (!(rate > 0) || !(burst >= 1))
      throw new RangeError('token bucket needs rate > 0 and burst >= 1');
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes `cost` tokens if available; returns whether it could. */
  take(cost: number, now: number): boolean {
    this.#refill(now);
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Tokens available now (for metrics and tests). */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#last = now;
    }
  }
}
