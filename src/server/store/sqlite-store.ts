import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { nameKey, type OneTimePrekey, roomKey } from '../../protocol/index.js';
import type {
  EnqueueResult,
  IdentityBinding,
  RoomBan,
  RoomRole,
  ServerStore,
  StoredMessage,
  StoredRoom,
} from './types.js';

/** Schema migrations, applied in order; `user_version` records how many ran. */
const MIGRATIONS: string[] = [
  `CREATE TABLE identity_binding (
     name_key     TEXT PRIMARY KEY,
     name         TEXT NOT NULL,
     identity_key TEXT NOT NULL,
     first_seen   INTEGER NOT NULL,
     last_seen    INTEGER NOT NULL
   ) STRICT`,
  `ALTER TABLE identity_binding ADD COLUMN pub TEXT;
   ALTER TABLE identity_binding ADD COLUMN pubsig TEXT;
   ALTER TABLE identity_binding ADD COLUMN caps TEXT NOT NULL DEFAULT '[]';
   CREATE TABLE prekey (
     name_key TEXT NOT NULL,
     key_id   INTEGER NOT NULL,
     pub      TEXT NOT NULL,
     added    INTEGER NOT NULL,
     PRIMARY KEY (name_key, key_id)
   ) STRICT;
   CREATE TABLE mailbox (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     recipient  TEXT NOT NULL,
     sender     TEXT NOT NULL,
     line       TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX mailbox_recipient ON mailbox (recipient, seq);
   CREATE INDEX mailbox_created ON mailbox (created_at);`,
  `CREATE TABLE room (
     name_key      TEXT PRIMARY KEY,
     name          TEXT NOT NULL,
     topic         TEXT NOT NULL DEFAULT '',
     password_hash TEXT,
     created_at    INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE room_role (
     room_key     TEXT NOT NULL REFERENCES room (name_key) ON DELETE CASCADE,
     identity_key TEXT NOT NULL,
     role         TEXT NOT NULL CHECK (role IN ('owner', 'op')),
     PRIMARY KEY (room_key, identity_key)
   ) STRICT;
   CREATE TABLE room_ban (
     room_key     TEXT NOT NULL REFERENCES room (name_key) ON DELETE CASCADE,
     identity_key TEXT NOT NULL,
     until        INTEGER,
     reason       TEXT NOT NULL DEFAULT '',
     banned_by    TEXT NOT NULL,
     created_at   INTEGER NOT NULL,
     PRIMARY KEY (room_key, identity_key)
   ) STRICT;
   CREATE TABLE setting (
     key   TEXT PRIMARY KEY,
     value TEXT NOT NULL
   ) STRICT;`,
];

interface RoomRow {
  name: string;
  topic: string;
  password_hash: string | null;
  created_at: number;
}

interface BanRow {
  until: number | null;
  reason: string;
  banned_by: string;
  created_at: number;
}

function toRoom(row: RoomRow): StoredRoom {
  return {
    name: row.name,
    topic: row.topic,
    ...(row.password_hash ? { passwordHash: row.password_hash } : {}),
    createdAt: row.created_at,
  };
}

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
 * The embedded store: SQLite through better-sqlite3, WAL journal, synchronous=NORMAL
 * (durable across process crashes; a power loss may lose the last transactions, never
 * corrupt). `:memory:` gives a throwaway database. Every multi-step change runs in one
 * transaction.
 */
export class SqliteStore implements ServerStore {
  readonly db: Database.Database;
  #stmt: ReturnType<SqliteStore['prepare']>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.#migrate();
    this.#stmt = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      getBinding: db.prepare<[string], BindingRow>(
        'SELECT name, identity_key, pub, pubsig, caps, first_seen, last_seen FROM identity_binding WHERE name_key = ?',
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
      countForRecipient: db.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM mailbox WHERE recipient = ?',
      ),
      countForPair: db.prepare<[string, string], { n: number }>(
        'SELECT count(*) AS n FROM mailbox WHERE recipient = ? AND sender = ?',
      ),
      enqueue: db.prepare<[string, string, string, number]>(
        'INSERT INTO mailbox (recipient, sender, line, created_at) VALUES (?, ?, ?, ?)',
      ),
      pending: db.prepare<[string, number, number], { seq: number; line: string }>(
        'SELECT seq, line FROM mailbox WHERE recipient = ? AND created_at >= ? ORDER BY seq LIMIT ?',
      ),
      acknowledge: db.prepare<[string, number]>(
        'DELETE FROM mailbox WHERE recipient = ? AND seq <= ?',
      ),
      expire: db.prepare<[number]>('DELETE FROM mailbox WHERE created_at < ?'),
      getRoom: db.prepare<[string], RoomRow>(
        'SELECT name, topic, password_hash, created_at FROM room WHERE name_key = ?',
      ),
      listRooms: db.prepare<[], RoomRow>(
        'SELECT name, topic, password_hash, created_at FROM room ORDER BY name_key',
      ),
      createRoom: db.prepare<[string, string, number]>(
        'INSERT OR IGNORE INTO room (name_key, name, created_at) VALUES (?, ?, ?)',
      ),
      setTopic: db.prepare<[string, string]>('UPDATE room SET topic = ? WHERE name_key = ?'),
      setPassword: db.prepare<[string | null, string]>(
        'UPDATE room SET password_hash = ? WHERE name_key = ?',
      ),
      getRole: db.prepare<[string, string], { role: 'owner' | 'op' }>(
        'SELECT role FROM room_role WHERE room_key = ? AND identity_key = ?',
      ),
      setRole: db.prepare<[string, string, string]>(
        'INSERT OR REPLACE INTO room_role (room_key, identity_key, role) VALUES (?, ?, ?)',
      ),
      clearRole: db.prepare<[string, string]>(
        'DELETE FROM room_role WHERE room_key = ? AND identity_key = ?',
      ),
      getBan: db.prepare<[string, string], BanRow>(
        'SELECT until, reason, banned_by, created_at FROM room_ban WHERE room_key = ? AND identity_key = ?',
      ),
      setBan: db.prepare<[string, string, number | null, string, string, number]>(
        'INSERT OR REPLACE INTO room_ban (room_key, identity_key, until, reason, banned_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      clearBan: db.prepare<[string, string]>(
        'DELETE FROM room_ban WHERE room_key = ? AND identity_key = ?',
      ),
      getSetting: db.prepare<[string], { value: string }>(
        'SELECT value FROM setting WHERE key = ?',
      ),
      setSetting: db.prepare<[string, string]>(
        'INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)',
      ),
    };
  }

  #migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `the data file was written by a newer securechat (schema ${version}); upgrade securechat`,
      );
    }
    const apply = this.db.transaction(() => {
      for (let i = version; i < MIGRATIONS.length; i++) this.db.exec(MIGRATIONS[i]!);
      this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    });
    apply();
  }

  getBinding(name: string): IdentityBinding | undefined {
    const row = this.#stmt.getBinding.get(nameKey(name));
    return row ? toBinding(row) : undefined;
  }

  bindName(
    name: string,
    identityKey: string,
    now: number,
  ): { binding: IdentityBinding; created: boolean } {
    const key = nameKey(name);
    const created = this.#stmt.insertBinding.run(key, name, identityKey, now, now).changes === 1;
    const row = this.#stmt.getBinding.get(key);
    if (!row) throw new Error('identity binding vanished after insert');
    return { binding: toBinding(row), created };
  }

  touchBinding(
    name: string,
    now: number,
    published?: { pub: string; pubsig: string; caps: string[] },
  ): void {
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

  addPrekeys(name: string, keys: OneTimePrekey[], max: number, replace = false): number {
    const key = nameKey(name);
    const add = this.db.transaction(() => {
      if (replace) this.#stmt.clearPrekeys.run(key);
      let count = this.#stmt.countPrekeys.get(key)?.n ?? 0;
      const now = Date.now();
      for (const prekey of keys) {
        if (count >= max) break;
        const changes = this.#stmt.upsertPrekey.run(key, prekey.id, prekey.pub, now).changes;
        if (changes > 0) count = this.#stmt.countPrekeys.get(key)?.n ?? count;
      }
      return count;
    });
    return add();
  }

  takePrekey(name: string): OneTimePrekey | undefined {
    const row = this.#stmt.takePrekey.get(nameKey(name));
    return row ? { id: row.key_id, pub: row.pub } : undefined;
  }

  countPrekeys(name: string): number {
    return this.#stmt.countPrekeys.get(nameKey(name))?.n ?? 0;
  }

  enqueueMessage(
    recipient: string,
    sender: string,
    line: string,
    now: number,
    limits: { perRecipient: number; perSender: number },
  ): EnqueueResult {
    const to = nameKey(recipient);
    const from = nameKey(sender);
    const enqueue = this.db.transaction((): EnqueueResult => {
      if ((this.#stmt.countForRecipient.get(to)?.n ?? 0) >= limits.perRecipient) {
        return { ok: false, reason: 'recipient_full' };
      }
      if ((this.#stmt.countForPair.get(to, from)?.n ?? 0) >= limits.perSender) {
        return { ok: false, reason: 'sender_quota' };
      }
      const result = this.#stmt.enqueue.run(to, from, line, now);
      return { ok: true, seq: Number(result.lastInsertRowid) };
    });
    return enqueue();
  }

  pendingMessages(recipient: string, notBefore: number, limit: number): StoredMessage[] {
    return this.#stmt.pending.all(nameKey(recipient), notBefore, limit);
  }

  acknowledgeMessages(recipient: string, upto: number): number {
    return this.#stmt.acknowledge.run(nameKey(recipient), upto).changes;
  }

  expireMessages(before: number): number {
    return this.#stmt.expire.run(before).changes;
  }

  getRoom(room: string): StoredRoom | undefined {
    const row = this.#stmt.getRoom.get(roomKey(room));
    return row ? toRoom(row) : undefined;
  }

  listRooms(): StoredRoom[] {
    return this.#stmt.listRooms.all().map(toRoom);
  }

  createRoom(room: string, owner: string | undefined, now: number): boolean {
    const create = this.db.transaction(() => {
      if (this.#stmt.createRoom.run(roomKey(room), room, now).changes === 0) return false;
      if (owner !== undefined) this.#stmt.setRole.run(roomKey(room), owner, 'owner');
      return true;
    });
    return create();
  }

  setRoomTopic(room: string, topic: string): void {
    this.#stmt.setTopic.run(topic, roomKey(room));
  }

  setRoomPassword(room: string, passwordHash: string | undefined): void {
    this.#stmt.setPassword.run(passwordHash ?? null, roomKey(room));
  }

  getRole(room: string, identityKey: string): RoomRole | undefined {
    return this.#stmt.getRole.get(roomKey(room), identityKey)?.role;
  }

  setRole(room: string, identityKey: string, role: RoomRole | undefined): void {
    if (role) this.#stmt.setRole.run(roomKey(room), identityKey, role);
    else this.#stmt.clearRole.run(roomKey(room), identityKey);
  }

  getBan(room: string, identityKey: string, now: number): RoomBan | undefined {
    const row = this.#stmt.getBan.get(roomKey(room), identityKey);
    if (!row) return undefined;
    if (row.until !== null && row.until <= now) {
      this.#stmt.clearBan.run(roomKey(room), identityKey);
      return undefined;
    }
    return {
      ...(row.until === null ? {} : { until: row.until }),
      reason: row.reason,
      bannedBy: row.banned_by,
      createdAt: row.created_at,
    };
  }

  setBan(room: string, identityKey: string, ban: RoomBan | undefined): void {
    if (!ban) {
      this.#stmt.clearBan.run(roomKey(room), identityKey);
      return;
    }
    this.#stmt.setBan.run(
      roomKey(room),
      identityKey,
      ban.until ?? null,
      ban.reason,
      ban.bannedBy,
      ban.createdAt,
    );
  }

  getSetting(key: string): string | undefined {
    return this.#stmt.getSetting.get(key)?.value;
  }

  setSetting(key: string, value: string): void {
    this.#stmt.setSetting.run(key, value);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
