import {
  MAX_KEM_PREKEYS_PER_UPLOAD,
  MAX_PREKEYS_PER_UPLOAD,
  PREKEY_LOW_WATERMARK,
  type PrekeyCountFrame,
} from '../../protocol/index.js';
import type { RatchetPeers } from './ratchet-peers.js';

/** One-time prekeys a client keeps the server stocked with. */
export const ONE_TIME_PREKEY_TARGET = 100;
/** One-time KEM prekeys a `pq` client keeps the server stocked with (about 110 KB of keys). */
export const KEM_PREKEY_TARGET = 50;

/** What to answer a `prekeys` count with. */
export interface UploadPlan {
  frames: Array<Record<string, unknown>>;
  /**
   * The server hands out a signed prekey of ours newer than any this client holds: this
   * state is older than one the identity had (restored from a backup), or the server lies.
   * Either way every session was marked stale and the signed prekey rotated (once per run).
   */
  restored?: true;
}

/**
 * Keeps the server stocked with our prekeys, from the counts it sends: one-time prekeys
 * topped up below the low watermark (or replaced when it holds more than we have secrets
 * for, or after a restore), always within the store's hourly allowance and cap, so a server
 * sending false counts gets at most that many; and the current signed prekey whenever the
 * server does not hand out that one. Nothing the server says makes us rotate a key or keep
 * one, except this: a server naming a signed prekey of ours newer than ours means our state
 * was restored (or the server lies), which costs new sessions, never plaintext.
 */
export class PrekeyPublisher {
  #peers: RatchetPeers;
  #replace: boolean;
  #kemReplace: boolean;
  #restoreHandled = false;
  /** The server keeps KEM prekeys for us (its counts carry `kem`, its welcome `pq`). */
  #serverPq = false;
  /**
   * Upload frames sent whose count (the server answers each, in order) has not come back:
   * while any are, a count's `kem` is stale (it predates KEM batches still on the way), so
   * no KEM top-up is decided on it.
   */
  #inFlight = 0;

  constructor(peers: RatchetPeers) {
    this.#peers = peers;
    this.#replace = peers.state.rolledBack !== undefined;
    this.#kemReplace = this.#replace;
  }

  /** The answer to a count from a server (`serverSpk`: its welcome offered `spk`). */
  /** A new connection: no answer to an earlier one's uploads will come. */
  connected(): void {
    this.#inFlight = 0;
  }

  onCount(count: PrekeyCountFrame, serverSpk: boolean, serverPq = false): UploadPlan {
    const settled = this.#inFlight === 0 || --this.#inFlight === 0;
    const { prekeys, sessions } = this.#peers.state;
    const plan: UploadPlan = { frames: [] };
    if (serverSpk && count.spk && !this.#restoreHandled && this.#newerThanOurs(count.spk)) {
      this.#restoreHandled = true;
      plan.restored = true;
      sessions.markAllStale();
      this.#peers.maintain(true);
      this.#replace = true;
      this.#kemReplace = true;
    }
    const spk = serverSpk && count.spk?.id !== prekeys.current.id ? prekeys.upload() : undefined;
    let replace = this.#replace || count.stored > prekeys.oneTimePrekeyCount;
    const keys = replace
      ? prekeys.newOneTimePrekeys(ONE_TIME_PREKEY_TARGET)
      : count.stored < PREKEY_LOW_WATERMARK
        ? prekeys.newOneTimePrekeys(ONE_TIME_PREKEY_TARGET - count.stored)
        : [];
    replace &&= keys.length > 0;
    if (replace) this.#replace = false;
    for (let i = 0; i < keys.length || (i === 0 && spk); i += MAX_PREKEYS_PER_UPLOAD) {
      plan.frames.push({
        type: 'prekeys',
        keys: keys.slice(i, i + MAX_PREKEYS_PER_UPLOAD),
        ...(i === 0 && replace ? { replace: true } : {}),
        ...(i === 0 && spk ? { spk } : {}),
      });
    }
    this.#serverPq = serverPq && count.kem !== undefined;
    if (this.#serverPq && settled) plan.frames.push(...this.#kemFrames(count));
    this.#inFlight += plan.frames.length;
    return plan;
  }

  /**
   * PQXDH: one-time KEM prekeys topped up to {@link KEM_PREKEY_TARGET} (replaced when the
   * server holds more than we have secrets for, or after a restore), at most 25 per frame so
   * each line fits the server's limit; and the last-resort KEM prekey whenever the server
   * does not hand out the current one.
   */
  #kemFrames(count: PrekeyCountFrame): Array<Record<string, unknown>> {
    const kem = this.#peers.state.kemPrekeys;
    const stored = count.kem ?? 0;
    const lastResort = count.kemlr?.id !== kem.lastResort.id ? kem.lastResort : undefined;
    let replace = this.#kemReplace || stored > kem.oneTimeCount;
    // One frame (at most 25 keys) per count: the answer to it brings the next, so the key
    // generation (about 3 ms a key) is spread over round trips instead of one long turn.
    const want = replace ? KEM_PREKEY_TARGET : Math.max(0, KEM_PREKEY_TARGET - stored);
    const keys = want > 0 ? kem.newOneTime(Math.min(MAX_KEM_PREKEYS_PER_UPLOAD, want)) : [];
    replace &&= keys.length > 0;
    if (replace) this.#kemReplace = false;
    if (keys.length === 0 && !lastResort) return [];
    return [
      {
        type: 'prekeys',
        keys: [],
        ...(keys.length > 0 ? { kem: keys } : {}),
        ...(replace ? { kemreplace: true } : {}),
        ...(lastResort ? { kemlr: lastResort } : {}),
      },
    ];
  }

  /** The upload of a signed prekey made by maintenance (a rotation). */
  signedPrekeyFrame(): Record<string, unknown> {
    const { prekeys, kemPrekeys } = this.#peers.state;
    this.#inFlight++;
    return {
      type: 'prekeys',
      keys: [],
      spk: prekeys.upload(),
      ...(this.#serverPq ? { kemlr: kemPrekeys.lastResort } : {}),
    };
  }

  #newerThanOurs(spk: { id: number; created: number }): boolean {
    const { current, previous } = this.#peers.state.prekeys;
    return spk.id !== current.id && spk.id !== previous?.id && spk.created > current.created;
  }
}
