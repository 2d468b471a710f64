/** What the gate needs of a password hasher (the argon2id worker, or a test double). */
export interface RoomPasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, phc: string): Promise<boolean>;
  close?(): Promise<number> | undefined;
}

/**
 * Where attempts are reserved and settled (rooms/lockout.ts in one process, the store's
 * lockout for a cluster); each call is one atomic step.
 */
export interface AttemptLedger {
  readonly lockMs: number;
  lockedFor(source: string, room: string, now: number): number | Promise<number>;
  reserve(source: string, room: string, now: number): boolean | Promise<boolean>;
  settle(source: string, room: string, ok: boolean, now: number): boolean | Promise<boolean>;
}

/** Password checks one source may have in flight, whatever the rooms. */
export const MAX_CHECKS_PER_SOURCE = 2;

export type GateVerdict =
  | { verdict: 'ok' }
  | { verdict: 'bad'; lockedNow: boolean }
  | { verdict: 'locked'; forMs: number }
  | { verdict: 'busy'; reason: 'in_flight' | 'queue_full' };

/** Thrown by {@link PasswordGate.hash} when the hashing queue is full. */
export class HasherBusyError extends Error {
  constructor() {
    super('the password hashing queue is full');
  }
}

/**
 * Room password checks that cannot be raced or queued up: the attempt is reserved in the
 * lockout before hashing; at most one check per (source, room) and two per source are in
 * flight; the hashing queue (one argon2id worker) holds at most `maxQueue` jobs and answers
 * "busy" beyond, so no one's join waits behind an attacker's guesses for long.
 */
export class PasswordGate {
  #hasher: RoomPasswordHasher;
  #lockout: AttemptLedger;
  #maxQueue: number;
  #queued = 0;
  #inFlight = new Set<string>();
  #perSource = new Map<string, number>();

  constructor(hasher: RoomPasswordHasher, lockout: AttemptLedger, maxQueue: number) {
    this.#hasher = hasher;
    this.#lockout = lockout;
    this.#maxQueue = maxQueue;
  }

  get lockout(): AttemptLedger {
    return this.#lockout;
  }

  /**
   * Checks `password` against the room's hash for `source` (an address key or an identity).
   * The in-flight mark and the hashing-queue slot are taken before the first await, so
   * concurrent checks cannot slip past either; the attempt is reserved in the ledger before
   * the hash runs.
   */
  async check(
    source: string,
    room: string,
    password: string | undefined,
    phc: string,
    now: () => number,
  ): Promise<GateVerdict> {
    const key = `${source}|${room}`;
    if (this.#inFlight.has(key) || (this.#perSource.get(source) ?? 0) >= MAX_CHECKS_PER_SOURCE) {
      const locked = await this.#lockout.lockedFor(source, room, now());
      return locked > 0
        ? { verdict: 'locked', forMs: locked }
        : { verdict: 'busy', reason: 'in_flight' };
    }
    this.#inFlight.add(key);
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    const hashing = password !== undefined;
    try {
      const locked = await this.#lockout.lockedFor(source, room, now());
      if (locked > 0) return { verdict: 'locked', forMs: locked };
      if (hashing && this.#queued >= this.#maxQueue)
        return { verdict: 'busy', reason: 'queue_full' };
      if (hashing) this.#queued++;
      try {
        if (!(await this.#lockout.reserve(source, room, now())))
          return { verdict: 'locked', forMs: await this.#lockout.lockedFor(source, room, now()) };
        const ok = hashing ? await this.#hasher.verify(password, phc) : false;
        if (ok) {
          await this.#lockout.settle(source, room, true, now());
          return { verdict: 'ok' };
        }
        return {
          verdict: 'bad',
          lockedNow: await this.#lockout.settle(source, room, false, now()),
        };
      } finally {
        if (hashing) this.#queued--;
      }
    } finally {
      this.#inFlight.delete(key);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
    }
  }

  /** Hashes a new room password; throws {@link HasherBusyError} when the queue is full. */
  hash(password: string): Promise<string> {
    if (this.#queued >= this.#maxQueue) return Promise.reject(new HasherBusyError());
    return this.#run(() => this.#hasher.hash(password));
  }

  async #run<T>(job: () => Promise<T>): Promise<T> {
    this.#queued++;
    try {
      return await job();
    } finally {
      this.#queued--;
    }
  }
}
