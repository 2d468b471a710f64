import type Database from 'better-sqlite3';
import { roomKey } from '../../protocol/index.js';
import type { RoomBan, RoomCreation, RoomQuota, RoomRole, RoomStore, StoredRoom } from './types.js';

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

const ROOM_COLUMNS = 'name, topic, password_hash, created_at';

function toRoom(row: RoomRow): StoredRoom {
  return {
    name: row.name,
    topic: row.topic,
    ...(row.password_hash ? { passwordHash: row.password_hash } : {}),
    createdAt: row.created_at,
  };
}

/** Rooms, roles and bans (membership itself is live state, not stored). */
export class SqliteRooms implements RoomStore {
  #db: Database.Database;
  #stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepare(db);
  }

  async get(room: string): Promise<StoredRoom | undefined> {
    const row = this.#stmt.get.get(roomKey(room));
    return row ? toRoom(row) : undefined;
  }

  /** Rooms sorted by name, after `after` (exclusive), at most `limit`. */
  async list(after: string | undefined, limit: number): Promise<StoredRoom[]> {
    return this.#stmt.list.all(after === undefined ? '' : roomKey(after), limit).map(toRoom);
  }

  async count(): Promise<number> {
    return this.#stmt.count.get()?.n ?? 0;
  }

  async countOwned(identityKey: string): Promise<number> {
    return this.#stmt.countOwned.get(identityKey)?.n ?? 0;
  }

  async create(
    room: string,
    owner: string | undefined,
    now: number,
    passwordHash?: string,
    limits?: RoomQuota,
  ): Promise<RoomCreation> {
    const create = this.#db.transaction((): RoomCreation => {
      const key = roomKey(room);
      if (this.#stmt.get.get(key)) return 'exists';
      if (limits && (this.#stmt.count.get()?.n ?? 0) >= limits.maxRooms) return 'server_full';
      if (
        limits &&
        owner !== undefined &&
        (this.#stmt.countOwned.get(owner)?.n ?? 0) >= limits.roomsPerIdentity
      )
        return 'owner_full';
      if (this.#stmt.create.run(key, room, passwordHash ?? null, now).changes === 0)
        return 'exists';
      if (owner !== undefined) this.#stmt.setRole.run(key, owner, 'owner');
      return 'created';
    });
    return create.immediate();
  }

  async setTopic(room: string, topic: string): Promise<void> {
    this.#stmt.setTopic.run(topic, roomKey(room));
  }

  async setPassword(room: string, passwordHash: string | undefined): Promise<void> {
    this.#stmt.setPassword.run(passwordHash ?? null, roomKey(room));
  }

  /** Records when the room's last member left (undefined: someone is in it). */
  async markEmpty(room: string, since: number | undefined): Promise<void> {
    this.#stmt.markEmpty.run(since ?? null, roomKey(room));
  }

  /** At start nobody is in any room. */
  async markAllEmpty(since: number): Promise<void> {
    this.#stmt.markAllEmpty.run(since);
  }

  /** Rooms empty since before `before`, with their owners' identity keys. */
  async emptySince(before: number): Promise<Array<{ name: string; owners: string[] }>> {
    return this.#stmt.emptySince.all(before).map((row) => ({
      name: row.name,
      owners: row.owners ? row.owners.split(',') : [],
    }));
  }

  /** Deletes a room with its roles and bans. */
  async delete(room: string): Promise<void> {
    this.#stmt.delete.run(roomKey(room));
  }

  async getRole(room: string, identityKey: string): Promise<RoomRole | undefined> {
    return this.#stmt.getRole.get(roomKey(room), identityKey)?.role;
  }

  async setRole(room: string, identityKey: string, role: RoomRole | undefined): Promise<void> {
    if (role) this.#stmt.setRole.run(roomKey(room), identityKey, role);
    else this.#stmt.clearRole.run(roomKey(room), identityKey);
  }

  async getBan(room: string, identityKey: string, now: number): Promise<RoomBan | undefined> {
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

  async setBan(room: string, identityKey: string, ban: RoomBan | undefined): Promise<void> {
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
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare<[string], RoomRow>(`SELECT ${ROOM_COLUMNS} FROM room WHERE name_key = ?`),
    list: db.prepare<[string, number], RoomRow>(
      `SELECT ${ROOM_COLUMNS} FROM room WHERE name_key > ? ORDER BY name_key LIMIT ?`,
    ),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM room'),
    countOwned: db.prepare<[string], { n: number }>(
      "SELECT count(*) AS n FROM room_role WHERE identity_key = ? AND role = 'owner'",
    ),
    create: db.prepare<[string, string, string | null, number]>(
      'INSERT OR IGNORE INTO room (name_key, name, password_hash, created_at) VALUES (?, ?, ?, ?)',
    ),
    setTopic: db.prepare<[string, string]>('UPDATE room SET topic = ? WHERE name_key = ?'),
    setPassword: db.prepare<[string | null, string]>(
      'UPDATE room SET password_hash = ? WHERE name_key = ?',
    ),
    markEmpty: db.prepare<[number | null, string]>(
      'UPDATE room SET emptied_at = ? WHERE name_key = ?',
    ),
    markAllEmpty: db.prepare<[number]>('UPDATE room SET emptied_at = ?'),
    emptySince: db.prepare<[number], { name: string; owners: string | null }>(
      `SELECT r.name, group_concat(o.identity_key) AS owners FROM room r
       LEFT JOIN room_role o ON o.room_key = r.name_key AND o.role = 'owner'
       WHERE r.emptied_at IS NOT NULL AND r.emptied_at < ? GROUP BY r.name_key`,
    ),
    delete: db.prepare<[string]>('DELETE FROM room WHERE name_key = ?'),
    getRole: db.prepare<[string, string], { role: RoomRole }>(
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
  };
}
