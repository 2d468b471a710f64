import { describe, expect, it } from 'vitest';
import { PasswordLockout } from '../../../src/server/rooms/lockout.js';
import {
  HasherBusyError,
  PasswordGate,
  type RoomPasswordHasher,
} from '../../../src/server/rooms/password-gate.js';

/** A hasher whose checks finish only when the test says so. */
class ManualHasher implements RoomPasswordHasher {
  started: string[] = [];
  #pending: Array<() => void> = [];
  hash(password: string): Promise<string> {
    return this.#later(`hash:${password}`, `phc:${password}`);
  }
  verify(password: string, phc: string): Promise<boolean> {
    return this.#later(`verify:${password}`, phc === `phc:${password}`);
  }
  finishAll(): void {
    for (const done of this.#pending.splice(0)) done();
  }
  #later<T>(label: string, value: T): Promise<T> {
    this.started.push(label);
    return new Promise((resolve) => this.#pending.push(() => resolve(value)));
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function gate(maxQueue = 4, attempts = 3) {
  const hasher = new ManualHasher();
  const lockout = new PasswordLockout({ attempts, windowMs: 60_000, lockMs: 60_000 });
  return { hasher, gate: new PasswordGate(hasher, lockout, maxQueue) };
}

describe('PasswordGate', () => {
  it('runs one check per source and room at a time; the others are told to wait', async () => {
    const { hasher, gate: g } = gate();
    const first = g.check('1.2.3.4', '#r', 'a', 'phc:right', () => 0);
    expect(await g.check('1.2.3.4', '#r', 'right', 'phc:right', () => 0)).toEqual({
      verdict: 'busy',
      reason: 'in_flight',
    });
    expect(hasher.started).toEqual(['verify:a']);
    hasher.finishAll();
    expect(await first).toEqual({ verdict: 'bad', lockedNow: false });
    const second = g.check('1.2.3.4', '#r', 'right', 'phc:right', () => 0);
    await tick();
    hasher.finishAll();
    expect(await second).toEqual({ verdict: 'ok' });
  });

  it('holds at most two checks per source across rooms, and a bounded queue for everyone', async () => {
    const { hasher, gate: g } = gate(3);
    const a = g.check('src', '#a', 'x', 'phc:y', () => 0);
    const b = g.check('src', '#b', 'x', 'phc:y', () => 0);
    expect((await g.check('src', '#c', 'x', 'phc:y', () => 0)).verdict).toBe('busy');
    const c = g.check('other', '#c', 'x', 'phc:y', () => 0);
    expect(await g.check('third', '#d', 'x', 'phc:y', () => 0)).toEqual({
      verdict: 'busy',
      reason: 'queue_full',
    });
    await expect(g.hash('new')).rejects.toBeInstanceOf(HasherBusyError);
    hasher.finishAll();
    await Promise.all([a, b, c]);
    expect(hasher.started).toHaveLength(3);
  });

  it('counts the attempt before hashing: the lockout holds however the guesses are timed', async () => {
    const { hasher, gate: g } = gate(8, 3);
    for (let i = 0; i < 3; i++) {
      const check = g.check('src', '#r', `wrong${i}`, 'phc:right', () => 0);
      await tick();
      hasher.finishAll();
      await check;
    }
    expect((await g.check('src', '#r', 'right', 'phc:right', () => 0)).verdict).toBe('locked');
    expect(hasher.started).toHaveLength(3);
    // A missing password counts as a wrong one, without hashing.
    const other = gate(8, 1);
    expect(await other.gate.check('s2', '#r', undefined, 'phc:x', () => 0)).toEqual({
      verdict: 'bad',
      lockedNow: true,
    });
    expect(other.hasher.started).toEqual([]);
  });
});
