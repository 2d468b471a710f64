/**
 * When this client sends and accepts session resets (their format is the protocol's:
 * `signReset`, `readReset`): how far a reset's time may be from ours, and how often we
 * answer undecryptable messages with one.
 */
import { toBase64 } from '../../protocol/index.js';

/** A reset whose time is further than this from ours is ignored (clock skew allowance). */
export const RESET_WINDOW_MS = 10 * 60_000;
/** We send at most one reset per peer session (its ratchet key) in this interval. */
export const RESET_INTERVAL_MS = 60 * 60_000;
/** And at most this many per peer in that interval, whatever keys the messages named. */
export const MAX_RESETS_PER_PEER = 4;

/**
 * How often we answer undecryptable messages with a reset: once per peer session (the
 * ratchet key named) per interval, and a few per peer, so a server replaying or inventing
 * messages cannot make us sign resets at will. Bounded in memory.
 */
export class ResetLimiter {
  #sent = new Map<string, number>();
  #perPeer = new Map<string, number[]>();
  #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  allow(peerIdentity: string, ratchetKey: Uint8Array, now: number): boolean {
    const key = `${peerIdentity}|${toBase64(ratchetKey)}`;
    const last = this.#sent.get(key);
    if (last !== undefined && now - last < RESET_INTERVAL_MS) return false;
    const recent = (this.#perPeer.get(peerIdentity) ?? []).filter(
      (t) => now - t < RESET_INTERVAL_MS,
    );
    if (recent.length >= MAX_RESETS_PER_PEER) return false;
    if (this.#sent.size >= this.#max) this.#sent.clear();
    if (this.#perPeer.size >= this.#max) this.#perPeer.clear();
    this.#sent.set(key, now);
    this.#perPeer.set(peerIdentity, [...recent, now]);
    return true;
  }
}
