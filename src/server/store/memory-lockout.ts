import { PasswordLockout } from '../rooms/lockout.js';
import type { LockoutPolicy, LockoutStore } from './types.js';

/**
 * Password-attempt reservations of one process, in memory (bounded: see PasswordLockout).
 * Each method is one synchronous step behind its promise, so reservations cannot interleave.
 */
export class MemoryLockout implements LockoutStore {
  #byPolicy = new Map<string, PasswordLockout>();

  #for(policy: LockoutPolicy): PasswordLockout {
    const key = `${policy.attempts}|${policy.windowMs}|${policy.lockMs}`;
    let lockout = this.#byPolicy.get(key);
    if (!lockout) {
      lockout = new PasswordLockout(policy);
      this.#byPolicy.set(key, lockout);
    }
    return lockout;
  }

  async lockedFor(
    source: string,
    room: string,
    now: number,
    policy: LockoutPolicy,
  ): Promise<number> {
    return this.#for(policy).lockedFor(source, room, now);
  }

  async reserve(
    source: string,
    room: string,
    now: number,
    policy: LockoutPolicy,
  ): Promise<boolean> {
    return this.#for(policy).reserve(source, room, now);
  }

  async settle(
    source: string,
    room: string,
    ok: boolean,
    now: number,
    policy: LockoutPolicy,
  ): Promise<boolean> {
    return this.#for(policy).settle(source, room, ok, now);
  }
}
