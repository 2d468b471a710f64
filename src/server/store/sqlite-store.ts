import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type KemPrekeyWire,
  nameKey,
  type OneTimePrekey,
  type SignedPrekeyKind,
} from '../../protocol/index.js';
import { MemoryLockout } from './memory-lockout.js';
import { migrate } from './migrations.js';
import { SqliteMailbox } from './sqlite-mailbox.js';
import { SqliteRooms } from './sqlite-rooms.js';
import type {
  IdentityBinding,
  KemPrekeyTake,
  NameClaim,
  NameLifetimes,
  PrekeyTake,
  ServerStore,
  StoredSignedPrekey,
} from './types.js';

/** A name counts as used on two days once it was seen this long after it was first bound. */
export const ESTABLISHED_AFTER_MS = 24 * 3_600_000;

interface BindingRow {
  name: string;
  identity_key: string;
  pub: string | null;
  pubsig: string | null;
  caps: string;
  first_seen: number;
  last_seen: number;
}

function toBinding(row: BindingRow): IdentityBinding {
  let caps: string[] = [];
  try {
    const parsed = JSON.parse(row.caps) as unknown;
    if (Array.isArray(parsed)) caps = parsed.filter((c): c is string => typeof c === 'string');
  } catch {
    caps = [];
  }
  return {
    name: row.name,
    identityKey: row.identity_key,
    ...(row.pub ? { pub: row.pub } : {}),
    ...(row.pubsig ? { pubsig: row.pubsig } : {}),
    caps,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

/**
 * Creates the data file's directory (0700) and the file itself (0600) before SQLite does:
 * SQLite would create it 0644, and it holds password hashes and stored messages. SQLite
 * gives its -wal and -shm files the main file's mode.
 */
function prepareDataFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/**
 * The embedded store: SQLite through better-sqlite3, WAL journal, synchronous=NORMAL
 * (durable across process crashes; a power loss may lose the last transactions, never
 * corrupt). `:memory:` gives a throwaway database. Every multi-step change runs in one
 * transaction, so each async method is one atomic step. Password-attempt reservations are
 * kept in memory (one process shares them; a network store keeps them for the cluster).
 */
export class SqliteStore implements ServerStore {
  readonly db: Database.Database;
  readonly mailbox: SqliteMailbox;
  readonly rooms: SqliteRooms;
  readonly lockout = new MemoryLockout();
  #stmt: ReturnType<typeof prepare>;

  constructor(path: string) {
    if (path !== ':memory:') prepareDataFile(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    this.#stmt = prepare(this.db);
    this.mailbox = new SqliteMailbox(this.db);
    this.rooms = new SqliteRooms(this.db);
  }

  async getBinding(name: string): Promise<IdentityBinding | undefined> {
    const row = this.#stmt.getBinding.get(nameKey(name));
    return row ? toBinding(row) : undefined;
  }

  hasBindingNow(name: string): boolean {
    return this.#stmt.hasBinding.get(nameKey(name)) !== undefined;
  }

  async claimName(
    name: string,
    identityKey: string,
    now: number,
    limits: { namesPerIdentity: number },
  ): Promise<NameClaim> {
    const key = nameKey(name);
    const claim = this.db.transaction((): NameClaim => {
      const held = this.#stmt.getBinding.get(key);
      if (held) {
        const binding = toBinding(held);
        return binding.identityKey === identityKey
          ? { ok: true, binding, created: false }
          : { ok: false, reason: 'bound', binding };
      }
      if ((this.#stmt.countBindings.get(identityKey)?.n ?? 0) >= limits.namesPerIdentity)
        return { ok: false, reason: 'identity_cap' };
      this.#stmt.insertBinding.run(key, name, identityKey, now, now);
      const row = this.#stmt.getBinding.get(key);
      if (!row) throw new Error('identity binding vanished after insert');
      return { ok: true, binding: toBinding(row), created: true };
    });
    return claim.immediate();
  }

  async touchBinding(
    name: string,
    now: number,
    published?: { pub: string; pubsig: string; caps: string[] },
  ): Promise<void> {
    if (published) {
      this.#stmt.publish.run(
        now,
        published.pub,
        published.pubsig,
        JSON.stringify(published.caps),
        nameKey(name),
      );
    } else {
      this.#stmt.touch.run(now, nameKey(name));
    }
  }

  async touchBindings(names: readonly string[], now: number): Promise<void> {
    const touch = this.db.transaction(() => {
      for (const name of names) this.#stmt.touch.run(now, nameKey(name));
    });
    touch();
  }

  async countBindings(identityKey: string): Promise<number> {
    return this.#stmt.countBindings.get(identityKey)?.n ?? 0;
  }

  async expireBindings(
    now: number,
    lifetimes: NameLifetimes,
    keep: (name: string) => boolean,
  ): Promise<string[]> {
    const candidates = this.#stmt.expiredBindings.all(
      ESTABLISHED_AFTER_MS,
      now - lifetimes.trialTtlMs,
      now - lifetimes.ttlMs,
    );
    const freed: string[] = [];
    const expire = this.db.transaction(() => {
      for (const { name, name_key } of candidates) {
        if (keep(name)) continue;
        this.#stmt.deleteBinding.run(name_key);
        this.#stmt.clearPrekeys.run(name_key);
        this.#stmt.clearKemPrekeys.run(name_key);
        this.#stmt.clearSignedPrekeys.run(name_key);
        this.mailbox.dropRecipientNow(name);
        freed.push(name);
      }
    });
    expire();
    return freed;
  }

  async addPrekeys(
    name: string,
    keys: OneTimePrekey[],
    max: number,
    now: number,
    replace = false,
  ): Promise<number> {
    const key = nameKey(name);
    const add = this.db.transaction(() => {
      if (replace) this.#stmt.clearPrekeys.run(key);
      let count = this.#stmt.countPrekeys.get(key)?.n ?? 0;
      for (const prekey of keys) {
        if (count >= max) break;
        const changes = this.#stmt.upsertPrekey.run(key, prekey.id, prekey.pub, now).changes;
        if (changes > 0) count = this.#stmt.countPrekeys.get(key)?.n ?? count;
      }
      return count;
    });
    return add();
  }

  async takePrekey(name: string): Promise<PrekeyTake> {
    const key = nameKey(name);
    const take = this.db.transaction((): PrekeyTake => {
      const row = this.#stmt.takePrekey.get(key);
      return {
        prekey: row ? { id: row.key_id, pub: row.pub } : undefined,
        left: this.#stmt.countPrekeys.get(key)?.n ?? 0,
      };
    });
    return take.immediate();
  }

  async countPrekeys(name: string): Promise<number> {
    return this.#stmt.countPrekeys.get(nameKey(name))?.n ?? 0;
  }

  async addKemPrekeys(
    name: string,
    keys: KemPrekeyWire[],
    max: number,
    now: number,
    replace = false,
  ): Promise<number> {
    const key = nameKey(name);
    const add = this.db.transaction(() => {
      if (replace) this.#stmt.clearKemPrekeys.run(key);
      let count = this.#stmt.countKemPrekeys.get(key)?.n ?? 0;
      for (const prekey of keys) {
        if (count >= max) break;
        this.#stmt.upsertKemPrekey.run(key, prekey.id, prekey.created, prekey.pub, prekey.sig, now);
        count = this.#stmt.countKemPrekeys.get(key)?.n ?? count;
      }
      return count;
    });
    return add();
  }

  async takeKemPrekey(name: string): Promise<KemPrekeyTake> {
    const key = nameKey(name);
    const take = this.db.transaction((): KemPrekeyTake => {
      const row = this.#stmt.takeKemPrekey.get(key);
      return {
        prekey: row
          ? { id: row.key_id, created: row.created, pub: row.pub, sig: row.sig }
          : undefined,
        left: this.#stmt.countKemPrekeys.get(key)?.n ?? 0,
      };
    });
    return take.immediate();
  }

  async countKemPrekeys(name: string): Promise<number> {
    return this.#stmt.countKemPrekeys.get(nameKey(name))?.n ?? 0;
  }

  async putSignedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    prekey: StoredSignedPrekey,
    now: number,
  ): Promise<{ current: StoredSignedPrekey; accepted: boolean }> {
    const key = nameKey(name);
    const put = this.db.transaction(() => {
      const current = this.#signedPrekey(key, kind, 'current');
      if (current && current.id === prekey.id && current.pub === prekey.pub)
        return { current, accepted: true };
      if (current && prekey.created <= current.created) return { current, accepted: false };
      this.#stmt.dropSignedPrekey.run(key, kind, 'previous');
      this.#stmt.retireSignedPrekey.run(key, kind);
      this.#stmt.insertSignedPrekey.run(
        key,
        kind,
        prekey.id,
        prekey.created,
        prekey.pub,
        prekey.sig,
        prekey.pubsig,
        now,
      );
      return { current: prekey, accepted: true };
    });
    return put();
  }

  async signedPrekey(
    name: string,
    kind: SignedPrekeyKind,
    slot: 'current' | 'previous' = 'current',
  ): Promise<StoredSignedPrekey | undefined> {
    return this.#signedPrekey(nameKey(name), kind, slot);
  }

  #signedPrekey(
    key: string,
    kind: SignedPrekeyKind,
    slot: 'current' | 'previous',
  ): StoredSignedPrekey | undefined {
    const row = this.#stmt.getSignedPrekey.get(key, kind, slot);
    return row
      ? { id: row.key_id, created: row.created, pub: row.pub, sig: row.sig, pubsig: row.pubsig }
      : undefined;
  }

  async getSetting(key: string): Promise<string | undefined> {
    return this.#stmt.getSetting.get(key)?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.#stmt.setSetting.run(key, value);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function prepare(db: Database.Database) {
  return {
    getBinding: db.prepare<[string], BindingRow>(
      'SELECT name, identity_key, pub, pubsig, caps, first_seen, last_seen FROM identity_binding WHERE name_key = ?',
    ),
    hasBinding: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM identity_binding WHERE name_key = ?',
    ),
    insertBinding: db.prepare<[string, string, string, number, number]>(
      'INSERT OR IGNORE INTO identity_binding (name_key, name, identity_key, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)',
    ),
    touch: db.prepare<[number, string]>(
      'UPDATE identity_binding SET last_seen = ? WHERE name_key = ?',
    ),
    publish: db.prepare<[number, string, string, string, string]>(
      'UPDATE identity_binding SET last_seen = ?, pub = ?, pubsig = ?, caps = ? WHERE name_key = ?',
    ),
    countBindings: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM identity_binding WHERE identity_key = ?',
    ),
    expiredBindings: db.prepare<[number, number, number], { name: string; name_key: string }>(
      `SELECT name, name_key FROM identity_binding
       WHERE (last_seen - first_seen < ? AND last_seen < ?) OR last_seen < ?`,
    ),
    deleteBinding: db.prepare<[string]>('DELETE FROM identity_binding WHERE name_key = ?'),
    upsertPrekey: db.prepare<[string, number, string, number]>(
      'INSERT OR REPLACE INTO prekey (name_key, key_id, pub, added) VALUES (?, ?, ?, ?)',
    ),
    clearPrekeys: db.prepare<[string]>('DELETE FROM prekey WHERE name_key = ?'),
    countPrekeys: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM prekey WHERE name_key = ?',
    ),
    takePrekey: db.prepare<[string], { key_id: number; pub: string }>(
      `DELETE FROM prekey WHERE rowid = (SELECT rowid FROM prekey WHERE name_key = ? ORDER BY added, key_id LIMIT 1)
       RETURNING key_id, pub`,
    ),
    upsertKemPrekey: db.prepare<[string, number, number, string, string, number]>(
      'INSERT OR REPLACE INTO kem_prekey (name_key, key_id, created, pub, sig, added) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    clearKemPrekeys: db.prepare<[string]>('DELETE FROM kem_prekey WHERE name_key = ?'),
    countKemPrekeys: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM kem_prekey WHERE name_key = ?',
    ),
    takeKemPrekey: db.prepare<
      [string],
      { key_id: number; created: number; pub: string; sig: string }
    >(
      `DELETE FROM kem_prekey WHERE rowid = (SELECT rowid FROM kem_prekey WHERE name_key = ? ORDER BY added, key_id LIMIT 1)
       RETURNING key_id, created, pub, sig`,
    ),
    getSignedPrekey: db.prepare<
      [string, string, string],
      { key_id: number; created: number; pub: string; sig: string; pubsig: string }
    >(
      'SELECT key_id, created, pub, sig, pubsig FROM signed_prekey WHERE name_key = ? AND kind = ? AND slot = ?',
    ),
    dropSignedPrekey: db.prepare<[string, string, string]>(
      'DELETE FROM signed_prekey WHERE name_key = ? AND kind = ? AND slot = ?',
    ),
    retireSignedPrekey: db.prepare<[string, string]>(
      "UPDATE signed_prekey SET slot = 'previous' WHERE name_key = ? AND kind = ? AND slot = 'current'",
    ),
    insertSignedPrekey: db.prepare<
      [string, string, number, number, string, string, string, number]
    >(
      `INSERT INTO signed_prekey (name_key, kind, slot, key_id, created, pub, sig, pubsig, uploaded)
       VALUES (?, ?, 'current', ?, ?, ?, ?, ?, ?)`,
    ),
    clearSignedPrekeys: db.prepare<[string]>('DELETE FROM signed_prekey WHERE name_key = ?'),
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM setting WHERE key = ?'),
    setSetting: db.prepare<[string, string]>(
      'INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)',
    ),
  };
}
