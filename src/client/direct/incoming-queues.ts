import { nameKey, type RelayDelivery } from '../../protocol/index.js';

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
 * v1 envelopes already shown, by sender and nonce: a redelivered or replayed v1 message is
 * shown once. Recorded only after the envelope decrypted, so garbage sent ahead of a real
 * message (with its `id`, or even its nonce) cannot hide it; the unauthenticated `id` is
 * never used. Bounded (oldest forgotten first): v1 has no replay protection beyond this.
 * Ratchet and room messages are de-duplicated by their own chains.
 */
export class SeenEnvelopes {
  #seen = new Set<string>();
  #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  /** Records an authenticated envelope; false when it was shown before. */
  firstTime(from: string, nonce: string): boolean {
    const key = `${nameKey(from)}\u0000${nonce}`;
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > this.#max) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}
