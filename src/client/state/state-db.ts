import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { nameKey, secureRandom, toBase64 } from '../../protocol/index.js';
import {
  clearHolder,
  type LockHolder,
  processAlive,
  readHolder,
  StateLockedError,
  writeHolder,
} from './client-lock.js';
import { chmodPrivate, ensurePrivateDir, fsyncDir } from './config-dir.js';
import { checkWitness, type RollbackReason, readWitness, writeWitness } from './witness.js';

/** Schema of the client state, applied in order; `user_version` records how many ran. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
   CREATE TABLE session (
     id            INTEGER PRIMARY KEY,
     peer          TEXT NOT NULL,
     used          INTEGER NOT NULL,
     first_contact INTEGER NOT NULL,
     data          BLOB NOT NULL
   ) STRICT;
   CREATE INDEX session_peer ON session (peer);
   CREATE TABLE skipped_key (
     session INTEGER NOT NULL,
     dh      TEXT NOT NULL,
     n       INTEGER NOT NULL,
     at      INTEGER NOT NULL,
     data    BLOB NOT NULL,
     PRIMARY KEY (session, dh, n)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX skipped_key_at ON skipped_key (at);
   CREATE TABLE one_time_prekey (
     id      INTEGER PRIMARY KEY,
     created INTEGER NOT NULL,
     data    BLOB NOT NULL
   ) STRICT;
   CREATE TABLE signed_prekey (
     kind    TEXT NOT NULL,
     id      INTEGER NOT NULL,
     created INTEGER NOT NULL,
     retired INTEGER,
     data    BLOB NOT NULL,
     PRIMARY KEY (kind, id)
   ) STRICT;
   CREATE TABLE seen_init (
     peer      TEXT NOT NULL,
     ephemeral TEXT NOT NULL,
     spk       TEXT NOT NULL,
     at        INTEGER NOT NULL,
     PRIMARY KEY (peer, ephemeral, spk)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX seen_init_at ON seen_init (at);
   CREATE TABLE last_reset (peer TEXT PRIMARY KEY, time INTEGER NOT NULL) STRICT;`,
  // PQXDH: our ML-KEM-1024 prekeys (one-time ones, and last-resort ones with a lifecycle);
  // each row holds the 64-byte key-generation seed, sealed.
  `CREATE TABLE kem_prekey (
     id          INTEGER PRIMARY KEY,
     created     INTEGER NOT NULL,
     last_resort INTEGER NOT NULL,
     retired     INTEGER,
     data        BLOB NOT NULL
   ) STRICT;`,
  // File transfers in progress (transfers/transfer-store.ts): sealed rows, keyed by transfer id.
  `CREATE TABLE IF NOT EXISTS transfer (id TEXT PRIMARY KEY, data BLOB NOT NULL) STRICT;`,
];

/** Where one identity's state lives in a config directory. */
export function statePaths(configDir: string, user: string) {
  const dir = join(configDir, 'sessions');
  const base = join(dir, nameKey(user));
  return {
    dir,
    db: `${base}.db`,
    holder: `${base}.lock`,
    witness: `${base}.generation`,
    /** The whole-file JSON store of earlier versions (migrated, then deleted). */
    legacy: `${base}.json`,
  };
}

/**
 * The client state of one identity: an SQLite database (better-sqlite3) opened in exclusive
 * locking mode, so it is also the lock that keeps a second client off the same identity
 * (the kernel releases it when the process dies, so a stale lock is taken over safely).
 * WAL journal with synchronous=FULL: each write transaction is atomic and durable when it
 * returns, and writes only the rows it changes. Every write transaction raises a generation
 * counter, copied to a witness file after the commit: a database older than its witness was
 * restored from an older copy (`rolledBack`).
 */
export class StateDb {
  readonly db: Database.Database;
  readonly paths: ReturnType<typeof statePaths>;
  readonly storeId: string;
  /** Set when the loaded state is not known to be the latest this identity wrote. */
  readonly rolledBack: RollbackReason | undefined;
  /** A holder that ended without closing (its lock was taken over), if any. */
  readonly staleHolder: LockHolder | undefined;
  #generation: number;
  #meta: Database.Statement<[string, string]>;

  private constructor(db: Database.Database, paths: ReturnType<typeof statePaths>, now: number) {
    this.db = db;
    this.paths = paths;
    const previous = readHolder(paths.holder);
    this.staleHolder = previous && !processAlive(previous.pid) ? previous : undefined;
    writeHolder(paths.holder, now);
    migrate(db);
    this.#meta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    const fresh = this.meta('store_id') === undefined;
    if (fresh) this.#meta.run('store_id', toBase64(secureRandom(16)));
    this.storeId = this.meta('store_id')!;
    this.#generation = Number(this.meta('generation') ?? '0');
    this.rolledBack = fresh
      ? undefined
      : checkWitness(this.storeId, this.#generation, readWitness(paths.witness));
    // A rollback is reported until the first write (its handling) updates the witness.
    if (fresh) writeWitness(paths.witness, this.#witness());
  }

  /**
   * Opens (creating it 0600 in a 0700 directory) and locks the state of `user`.
   * @throws StateLockedError when another running client holds it.
   */
  static open(configDir: string, user: string, now = Date.now()): StateDb {
    const paths = statePaths(configDir, user);
    ensurePrivateDir(paths.dir);
    closeSync(openSync(paths.db, 'a', 0o600));
    chmodPrivate(paths.db);
    fsyncDir(paths.dir);
    const db = new Database(paths.db, { timeout: 1000 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      // Checkpoint every 1 MiB of log and truncate it back to that: the state stays small.
      db.pragma('wal_autocheckpoint = 256');
      db.pragma('journal_size_limit = 1048576');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY')
        throw new StateLockedError(user, paths.db, readHolder(paths.holder));
      throw error;
    }
    return new StateDb(db, paths, now);
  }

  get generation(): number {
    return this.#generation;
  }

  meta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.#meta.run(key, value);
  }

  /**
   * Runs `change` in one write transaction (nested calls join the outer one), raises the
   * generation in it, and after the commit copies the generation to the witness.
   */
  write<T>(change: () => T): T {
    if (this.db.inTransaction) return change();
    const run = this.db.transaction(() => {
      const result = change();
      this.#generation++;
      this.#meta.run('generation', String(this.#generation));
      return result;
    });
    const result = run();
    writeWitness(this.paths.witness, this.#witness());
    return result;
  }

  #witness() {
    return { storeId: this.storeId, generation: this.#generation };
  }

  /** Releases the lock (and forgets this process as the holder). */
  close(): void {
    if (!this.db.open) return;
    this.db.close();
    clearHolder(this.paths.holder);
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the state file was written by a newer securechat (schema ${version}); upgrade securechat`,
    );
  }
  db.transaction(() => {
    for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}
