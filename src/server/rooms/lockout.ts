/**
 * Wrong-password lockout per (source address, room): after `attempts` failures within
 * `windowMs`, further attempts are refused for `lockMs`. Bounded memory (old entries pruned).
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
    const until = this.#lockedUntil.get(`${source}|${room}`);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#lockedUntil.delete(`${source}|${room}`);
      return 0;
    }
    return until - now;
  }

  /** Records a wrong password; returns true when this failure started a lockout. */
  failed(source: string, room: string, now: number): boolean {
    const key = `${source}|${room}`;
    const recent = (this.#failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    if (recent.length >= this.attempts) {
      this.#failures.delete(key);
      this.#lockedUntil.set(key, now + this.lockMs);
      this.#prune(now);
      return true;
    }
    this.#failures.set(key, recent);
    if (this.#failures.size > 50_000) this.#prune(now);
    return false;
  }

  succeeded(source: string, room: string): void {
    this.#failures.delete(`${source}|${room}`);
  }

  #prune(now: number): void {
    for (const [key, until] of this.#lockedUntil) if (until <= now) this.#lockedUntil.delete(key);
    for (const [key, times] of this.#failures)
      if (times.every((t) => now - t >= this.windowMs)) this.#failures.delete(key);
  }
}
