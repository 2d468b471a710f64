import type { RelayDelivery } from '../protocol/index.js';

interface PendingIncoming {
  relay: RelayDelivery;
  /** Directory version when the message arrived. */
  version: number;
}

/**
 * Messages that could not be decrypted yet because the sender's key may be newer than our
 * directory (the sender joined or reconnected a moment ago). Each is retried once, after
 * the directory changes, then reported as undecryptable; never silently dropped.
 */
export class PendingDecryptions {
  #pending: PendingIncoming[] = [];
  #max: number;

  constructor(max = 256) {
    this.#max = max;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** Holds a message; returns one evicted to make room, if any. */
  hold(relay: RelayDelivery, version: number): RelayDelivery | undefined {
    const evicted = this.#pending.length >= this.#max ? this.#pending.shift()?.relay : undefined;
    this.#pending.push({ relay, version });
    return evicted;
  }

  /** Returns the messages whose directory version is older than `version`. */
  due(version: number): RelayDelivery[] {
    const due: RelayDelivery[] = [];
    const keep: PendingIncoming[] = [];
    for (const pending of this.#pending) {
      if (pending.version === version) keep.push(pending);
      else due.push(pending.relay);
    }
    this.#pending = keep;
    return due;
  }
}

/**
 * Remembers the last messages seen by (sender, id), so a message the server delivers twice
 * (a mailbox redelivery after a connection dropped before `fetched`) is shown once.
 * Bounded; messages without an id are always new.
 */
export class SeenMessages {
  #seen = new Set<string>();
  #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  firstTime(relay: Pick<RelayDelivery, 'from' | 'id'>): boolean {
    if (relay.id === undefined) return true;
    const key = `${relay.from.toLowerCase()}\u0000${relay.id}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}
