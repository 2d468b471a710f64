/**
 * Wrong-password lockout per (source, room), where the source is the client's address (IPv6
 * by /64) or, behind a shared address, its identity. An attempt is reserved (counted as a
 * failure) before the password is hashed, so concurrent guesses cannot get past the limit;
 * a right password refunds it. After `attempts` failures within `windowMs`, the source is
 * refused for `lockMs`. Bounded memory (old entries pruned).
 */
export class PasswordLockout {
  readonly attempts: number;
  readonly windowMs: number;
  readonly lockMs: number;
  #failures = new Map<string, number[]>();
  #lockedUntil = new Map<string, number>();

  constructor(options: { attempts: number; windowMs: number; lockMs: number }) {
    this.attempts = options.attempts;
    this.windowMs = options.windowMs;
    this.lockMs = options.lockMs;
  }

  /** Milliseconds left in a lockout, or 0. */
  lockedFor(source: string, room: string, now: number): number {
    const key = `${source}|${room}`;
    const until = this.#lockedUntil.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#lockedUntil.delete(key);
      return 0;
    }
    return until - now;
  }

  /** Counts an attempt before it is checked; false when the source is (or would be) locked out. */
  reserve(source: string, room: string, now: number): boolean {
    if (this.lockedFor(source, room, now) > 0) return false;
    const key = `${source}|${room}`;
    const recent = this.#recent(key, now);
    if (recent.length >= this.attempts) return false;
    recent.push(now);
    this.#failures.set(key, recent);
    if (this.#failures.size > 50_000) this.#prune(now);
    return true;
  }

  /**
   * Settles a reserved attempt: a right password refunds every failure; a wrong one stays
   * counted. Returns true when this failure started a lockout.
   */
  settle(source: string, room: string, ok: boolean, now: number): boolean {
    const key = `${source}|${room}`;
    if (ok) {
      this.#failures.delete(key);
      return false;
    }
    if (this.#recent(key, now).length < this.attempts) return false;
    this.#failures.delete(key);
    this.#lockedUntil.set(key, now + this.lockMs);
    if (this.#lockedUntil.size > 50_000) this.#prune(now);
    return true;
  }

  #recent(key: string, now: number): number[] {
    return (this.#failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }

  #prune(now: number): void {
    for (const [key, until] of this.#lockedUntil) if (until <= now) this.#lockedUntil.delete(key);
    for (const [key, times] of this.#failures)
      if (times.every((t) => now - t >= this.windowMs)) this.#failures.delete(key);
  }
}
