import {
  constantTimeEqual,
  decodeSessionState,
  encodeSessionState,
  expireSkippedKeys,
  fromBase64,
  type SessionState,
  type SkippedKey,
  toBase64,
} from '../../protocol/index.js';
import type { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import type { ClientLimits } from './limits.js';

/** One pairwise session as the client keeps it: the ratchet state and what we know of it. */
export interface SessionRecord {
  readonly id: number;
  /** The peer's identity key (Base64). */
  readonly peer: string;
  state: SessionState;
  /** A stranger opened it and we never answered in it (evicted first). */
  firstContact: boolean;
  /** The run (process start) in which its current sending chain was made. */
  sendRun: string | undefined;
  /** Loaded from a restored state: never sent in again (the next message starts a new session). */
  stale: boolean;
  /** The peer opens messages under a random nonce. */
  rn: boolean;
  used: number;
}

interface SessionRow {
  state: string;
  sendRun?: string;
  stale?: boolean;
  rn?: boolean;
}

const SESSION = 'session';
const SKIPPED = 'skipped_key';
const skippedKey = (k: Pick<SkippedKey, 'dh' | 'n'>) => `${k.dh}|${k.n}`;

/**
 * Ratchet sessions of one local identity in its state database: one encrypted row per
 * session and one per skipped-message key, so a message changes a few rows instead of
 * rewriting everything. Kept in memory too (bounded by the limits), written through.
 * Sessions are capped per peer, in all, and for first contacts; skipped keys in all and for
 * first contacts, and by age; first-contact state goes first.
 */
export class SessionStore {
  readonly runId: string;
  #db: StateDb;
  #cipher: RowCipher;
  #limits: ClientLimits;
  #now: () => number;
  #byPeer = new Map<string, SessionRecord[]>();
  #byId = new Map<number, SessionRecord>();
  #nextId = 1;
  #clock = 0;

  constructor(
    db: StateDb,
    cipher: RowCipher,
    options: { limits: ClientLimits; now: () => number; runId: string },
  ) {
    this.#db = db;
    this.#cipher = cipher;
    this.#limits = options.limits;
    this.#now = options.now;
    this.runId = options.runId;
    this.#load();
  }

  /** Sessions with a peer (identity key, Base64), most recently used first. */
  sessions(peer: string): readonly SessionRecord[] {
    return this.#byPeer.get(peer) ?? [];
  }

  get count(): { sessions: number; firstContact: number; skipped: number } {
    let firstContact = 0;
    let skipped = 0;
    for (const record of this.#byId.values()) {
      if (record.firstContact) firstContact++;
      skipped += record.state.skipped.length;
    }
    return { sessions: this.#byId.size, firstContact, skipped };
  }

  /**
   * Stores `next` as the new state of `previous` (or as a new session) and makes it the
   * most recent; then enforces the limits (which may drop other sessions and keys).
   */
  put(
    peer: string,
    next: SessionState,
    previous?: SessionRecord,
    meta: { firstContact?: boolean; rn?: boolean; imported?: boolean } = {},
  ): SessionRecord {
    return this.#db.write(() => {
      const newChain =
        !previous ||
        !constantTimeEqual(previous.state.sendRatchet.publicKey, next.sendRatchet.publicKey);
      const record: SessionRecord = previous ?? {
        id: this.#nextId++,
        peer,
        state: next,
        firstContact: meta.firstContact ?? false,
        sendRun: undefined,
        stale: false,
        rn: false,
        used: 0,
      };
      this.#writeSkipped(record, previous?.state.skipped ?? [], next.skipped);
      record.state = next;
      record.used = ++this.#clock;
      // An imported session's chain was not made by this run (nor known to be the latest).
      if (newChain && !meta.imported) record.sendRun = this.runId;
      if (meta.firstContact === false) record.firstContact = false;
      if (meta.rn) record.rn = true;
      if (!previous) {
        this.#byId.set(record.id, record);
        this.#byPeer.set(peer, [record, ...this.sessions(peer)]);
      } else {
        this.#byPeer.set(peer, [record, ...this.sessions(peer).filter((r) => r !== record)]);
      }
      this.#writeSession(record);
      this.#enforce(record);
      return record;
    });
  }

  /** Forgets one session (its peer named it in a reset, or a limit pushed it out). */
  drop(record: SessionRecord): void {
    this.#db.write(() => {
      this.#db.db.prepare('DELETE FROM session WHERE id = ?').run(record.id);
      this.#db.db.prepare('DELETE FROM skipped_key WHERE session = ?').run(record.id);
      for (const key of record.state.skipped) key.messageKey.fill(0);
      this.#byId.delete(record.id);
      const left = this.sessions(record.peer).filter((r) => r !== record);
      if (left.length > 0) this.#byPeer.set(record.peer, left);
      else this.#byPeer.delete(record.peer);
    });
  }

  /** After a restore: no session is sent in again (the next message to anyone starts anew). */
  markAllStale(): void {
    this.#db.write(() => {
      for (const record of this.#byId.values()) {
        record.stale = true;
        this.#writeSession(record);
      }
    });
  }

  /** Deletes skipped keys older than the limit's age; returns how many. */
  expireSkipped(now = this.#now()): number {
    const notBefore = now - this.#limits.skippedKeyMaxAgeMs;
    let expired = 0;
    for (const record of this.#byId.values()) expired += expireSkippedKeys(record.state, notBefore);
    if (expired > 0) {
      this.#db.write(() => {
        this.#db.db.prepare('DELETE FROM skipped_key WHERE at < ?').run(notBefore);
      });
    }
    return expired;
  }

  #writeSession(record: SessionRecord): void {
    const row: SessionRow = {
      state: encodeSessionState({ ...record.state, skipped: [] }),
      ...(record.sendRun ? { sendRun: record.sendRun } : {}),
      ...(record.stale ? { stale: true } : {}),
      ...(record.rn ? { rn: true } : {}),
    };
    this.#db.db
      .prepare(
        'INSERT OR REPLACE INTO session (id, peer, used, first_contact, data) VALUES (?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        this.#cipher.tag(record.peer),
        record.used,
        record.firstContact ? 1 : 0,
        this.#cipher.seal(SESSION, String(record.id), row),
      );
  }

  /** Writes the difference between two skipped-key lists of one session. */
  #writeSkipped(
    record: SessionRecord,
    before: readonly SkippedKey[],
    after: readonly SkippedKey[],
  ) {
    const old = new Set(before.map(skippedKey));
    const kept = new Set(after.map(skippedKey));
    const remove = this.#db.db.prepare(
      'DELETE FROM skipped_key WHERE session = ? AND dh = ? AND n = ?',
    );
    for (const k of before) if (!kept.has(skippedKey(k))) remove.run(record.id, k.dh, k.n);
    const insert = this.#db.db.prepare(
      'INSERT OR REPLACE INTO skipped_key (session, dh, n, at, data) VALUES (?, ?, ?, ?, ?)',
    );
    for (const k of after) {
      if (old.has(skippedKey(k))) continue;
      const rowKey = `${record.id}|${skippedKey(k)}`;
      insert.run(
        record.id,
        k.dh,
        k.n,
        k.at,
        this.#cipher.seal(SKIPPED, rowKey, toBase64(k.messageKey)),
      );
    }
  }

  /** Applies the limits after `kept` was stored (it is never the one dropped). */
  #enforce(kept: SessionRecord): void {
    const limits = this.#limits;
    const peers = this.sessions(kept.peer);
    for (const record of peers.slice(limits.sessionsPerPeer)) this.drop(record);
    const byAge = () => [...this.#byId.values()].sort((a, b) => a.used - b.used);
    const strangers = byAge().filter((r) => r.firstContact && r !== kept);
    const extraStrangers = this.count.firstContact - limits.firstContactSessions;
    for (const record of strangers.slice(0, Math.max(0, extraStrangers))) this.drop(record);
    if (this.#byId.size > limits.sessions) {
      const order = byAge().filter((r) => r !== kept);
      order.sort((a, b) => Number(b.firstContact) - Number(a.firstContact));
      for (const record of order.slice(0, this.#byId.size - limits.sessions)) this.drop(record);
    }
    const count = this.count;
    if (count.firstContact > 0 && count.skipped > 0) {
      const fc = [...this.#byId.values()].reduce(
        (n, r) => n + (r.firstContact ? r.state.skipped.length : 0),
        0,
      );
      this.#evictSkipped(fc - limits.firstContactSkippedKeys, true);
    }
    this.#evictSkipped(this.count.skipped - limits.skippedKeys, false);
  }

  /** Drops the `excess` oldest skipped keys (of first-contact sessions only, or first-contact first). */
  #evictSkipped(excess: number, firstContactOnly: boolean): void {
    if (excess <= 0) return;
    const victims = this.#db.db
      .prepare(
        `SELECT k.session AS session, k.dh AS dh, k.n AS n FROM skipped_key k
         JOIN session s ON s.id = k.session ${firstContactOnly ? 'WHERE s.first_contact = 1' : ''}
         ORDER BY s.first_contact DESC, k.at, k.n LIMIT ?`,
      )
      .all(excess) as Array<{ session: number; dh: string; n: number }>;
    const remove = this.#db.db.prepare(
      'DELETE FROM skipped_key WHERE session = ? AND dh = ? AND n = ?',
    );
    const bySession = new Map<number, Set<string>>();
    for (const v of victims) {
      remove.run(v.session, v.dh, v.n);
      const set = bySession.get(v.session) ?? new Set<string>();
      set.add(skippedKey(v));
      bySession.set(v.session, set);
    }
    for (const [id, gone] of bySession) {
      const record = this.#byId.get(id);
      if (!record) continue;
      record.state.skipped = record.state.skipped.filter((k) => {
        if (!gone.has(skippedKey(k))) return true;
        k.messageKey.fill(0);
        return false;
      });
    }
  }

  #load(): void {
    const rows = this.#db.db
      .prepare('SELECT id, used, first_contact, data FROM session ORDER BY used DESC')
      .all() as Array<{ id: number; used: number; first_contact: number; data: Uint8Array }>;
    for (const row of rows) {
      const data = this.#cipher.open<SessionRow>(SESSION, String(row.id), row.data);
      const state = decodeSessionState(data.state);
      const record: SessionRecord = {
        id: row.id,
        peer: toBase64(state.peerIdentity),
        state,
        firstContact: row.first_contact === 1,
        sendRun: data.sendRun,
        stale: data.stale === true,
        rn: data.rn === true,
        used: row.used,
      };
      this.#byId.set(record.id, record);
      this.#byPeer.set(record.peer, [...this.sessions(record.peer), record]);
      this.#nextId = Math.max(this.#nextId, row.id + 1);
      this.#clock = Math.max(this.#clock, row.used);
    }
    const keys = this.#db.db
      .prepare('SELECT session, dh, n, at, data FROM skipped_key ORDER BY at, n')
      .all() as Array<{ session: number; dh: string; n: number; at: number; data: Uint8Array }>;
    for (const k of keys) {
      const record = this.#byId.get(k.session);
      if (!record) continue;
      const secret = this.#cipher.open<string>(SKIPPED, `${k.session}|${k.dh}|${k.n}`, k.data);
      record.state.skipped.push({
        dh: k.dh,
        n: k.n,
        at: k.at,
        messageKey: fromBase64(secret, 'skipped key', 32),
      });
    }
  }
}
