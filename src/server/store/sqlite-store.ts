import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { nameKey } from '../../protocol/index.js';
import type { IdentityBinding, ServerStore } from './types.js';

/** Schema migrations, applied in order; `user_version` records how many ran. */
const MIGRATIONS: string[] = [
  `CREATE TABLE identity_binding (
     name_key     TEXT PRIMARY KEY,
     name         TEXT NOT NULL,
     identity_key TEXT NOT NULL,
     first_seen   INTEGER NOT NULL,
     last_seen    INTEGER NOT NULL
   ) STRICT`,
];

interface BindingRow {
  name: string;
  identity_key: string;
  first_seen: number;
  last_seen: number;
}

function toBinding(row: BindingRow): IdentityBinding {
  return {
    name: row.name,
    identityKey: row.identity_key,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

/**
 * The embedded store: SQLite through better-sqlite3, WAL journal, synchronous=NORMAL
 * (durable across process crashes; a power loss may lose the last transactions, never
 * corrupt). `:memory:` gives a throwaway database.
 */
export class SqliteStore implements ServerStore {
  readonly db: Database.Database;
  #getBinding: Database.Statement<[string], BindingRow>;
  #insertBinding: Database.Statement<[string, string, string, number, number]>;
  #touch: Database.Statement<[number, string]>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.#migrate();
    this.#getBinding = this.db.prepare(
      'SELECT name, identity_key, first_seen, last_seen FROM identity_binding WHERE name_key = ?',
    );
    this.#insertBinding = this.db.prepare(
      'INSERT OR IGNORE INTO identity_binding (name_key, name, identity_key, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)',
    );
    this.#touch = this.db.prepare('UPDATE identity_binding SET last_seen = ? WHERE name_key = ?');
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
    const row = this.#getBinding.get(nameKey(name));
    return row ? toBinding(row) : undefined;
  }

  bindName(
    name: string,
    identityKey: string,
    now: number,
  ): { binding: IdentityBinding; created: boolean } {
    const key = nameKey(name);
    const created = this.#insertBinding.run(key, name, identityKey, now, now).changes === 1;
    const row = this.#getBinding.get(key);
    if (!row) throw new Error('identity binding vanished after insert');
    return { binding: toBinding(row), created };
  }

  touchBinding(name: string, now: number): void {
    this.#touch.run(now, nameKey(name));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
