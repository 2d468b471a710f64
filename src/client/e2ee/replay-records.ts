import { toBase64 } from '../../protocol/index.js';
import type { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import type { ClientLimits } from './limits.js';

/**
 * What the client remembers to refuse replays: X3DH inits it accepted (by peer, ephemeral
 * key and the signed prekey they were made for; an init for a signed prekey whose secret is
 * deleted cannot open anyway, so those records go with it) and the time of the last reset
 * accepted from each peer. In the state database only (looked up on inits and resets,
 * which are rare), bounded per peer and in all. Peers are stored as keyed tags.
 */
export class ReplayRecords {
  #db: StateDb;
  #cipher: RowCipher;
  #limits: ClientLimits;
  #now: () => number;

  constructor(db: StateDb, cipher: RowCipher, limits: ClientLimits, now: () => number) {
    this.#db = db;
    this.#cipher = cipher;
    this.#limits = limits;
    this.#now = now;
  }

  /** Whether an init with this ephemeral key, made for this signed prekey, was accepted. */
  hasSeenInit(peer: string, ephemeralKey: Uint8Array, signedPrekey: Uint8Array): boolean {
    const ephemeral = toBase64(ephemeralKey);
    return (
      this.#db.db
        .prepare(
          `SELECT 1 FROM seen_init WHERE (peer = ? AND ephemeral = ? AND spk = ?)
           OR (peer = '' AND ephemeral = ?) LIMIT 1`,
        )
        .get(this.#cipher.tag(peer), ephemeral, toBase64(signedPrekey), ephemeral) !== undefined
    );
  }

  /** Records an accepted init (call only after it authenticated, in the session's transaction). */
  recordInit(peer: string, ephemeralKey: Uint8Array, signedPrekey: Uint8Array): void {
    const tag = this.#cipher.tag(peer);
    const db = this.#db.db;
    this.#db.write(() => {
      db.prepare(
        'INSERT OR IGNORE INTO seen_init (peer, ephemeral, spk, at) VALUES (?, ?, ?, ?)',
      ).run(tag, toBase64(ephemeralKey), toBase64(signedPrekey), this.#now());
      db.prepare(
        `DELETE FROM seen_init WHERE peer = ? AND (ephemeral, spk) IN (
           SELECT ephemeral, spk FROM seen_init WHERE peer = ? ORDER BY at DESC LIMIT -1 OFFSET ?)`,
      ).run(tag, tag, this.#limits.seenInitsPerPeer);
      db.prepare(
        `DELETE FROM seen_init WHERE (peer, ephemeral, spk) IN (
           SELECT peer, ephemeral, spk FROM seen_init ORDER BY at DESC LIMIT -1 OFFSET ?)`,
      ).run(this.#limits.seenInits);
    });
  }

  /** Imports ephemeral keys recorded by older versions (without peer or prekey). */
  importLegacyInits(ephemerals: readonly string[], at: number): void {
    const insert = this.#db.db.prepare(
      "INSERT OR IGNORE INTO seen_init (peer, ephemeral, spk, at) VALUES ('', ?, '', ?)",
    );
    for (const ephemeral of ephemerals.slice(-this.#limits.seenInits)) insert.run(ephemeral, at);
  }

  /** Forgets inits made for a signed prekey whose secret was deleted (they cannot open now). */
  forgetInitsFor(signedPrekey: Uint8Array): void {
    this.#db.db.prepare('DELETE FROM seen_init WHERE spk = ?').run(toBase64(signedPrekey));
  }

  /** Time of the last reset accepted from a peer (0 if none). */
  lastReset(peer: string): number {
    const row = this.#db.db
      .prepare('SELECT time FROM last_reset WHERE peer = ?')
      .get(this.#cipher.tag(peer)) as { time: number } | undefined;
    return row?.time ?? 0;
  }

  /** Records an accepted reset (in the transaction that drops the session it named). */
  setLastReset(peer: string, time: number): void {
    const db = this.#db.db;
    this.#db.write(() => {
      db.prepare('INSERT OR REPLACE INTO last_reset (peer, time) VALUES (?, ?)').run(
        this.#cipher.tag(peer),
        time,
      );
      db.prepare(
        'DELETE FROM last_reset WHERE peer IN (SELECT peer FROM last_reset ORDER BY time DESC LIMIT -1 OFFSET ?)',
      ).run(this.#limits.resetRecords);
    });
  }
}
