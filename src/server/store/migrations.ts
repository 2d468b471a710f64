import type Database from 'better-sqlite3';

/** What stored-message usage is kept per (kind, key expression over the new row). */
const USAGE_KEYS: Array<[kind: string, key: string]> = [
  ['recipient', 'NEW.recipient'],
  ['pair', 'NEW.recipient || char(0) || NEW.sender'],
  ['sender', 'NEW.sender_key'],
  ['address', 'NEW.sender_address'],
  ['all', "''"],
];

/** Schema migrations, applied in order; `user_version` records how many ran. */
export const MIGRATIONS: readonly string[] = [
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
  // Quotas that hold when names are free: stored bytes per sender identity and address,
  // names per identity, rooms per owner; empty rooms expire. Usage per recipient, pair,
  // sender, address and in all is kept by triggers, so a quota check is a few key lookups
  // however much is stored.
  `ALTER TABLE mailbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE mailbox ADD COLUMN sender_key TEXT NOT NULL DEFAULT '';
   ALTER TABLE mailbox ADD COLUMN sender_address TEXT;
   UPDATE mailbox SET bytes = length(line), sender_key = 'name:' || sender;
   CREATE TABLE mailbox_usage (
     kind     TEXT NOT NULL CHECK (kind IN ('recipient', 'pair', 'sender', 'address', 'all')),
     key      TEXT NOT NULL,
     messages INTEGER NOT NULL,
     bytes    INTEGER NOT NULL,
     PRIMARY KEY (kind, key)
   ) STRICT, WITHOUT ROWID;
   ${USAGE_KEYS.map(
     ([kind, key]) =>
       `INSERT INTO mailbox_usage (kind, key, messages, bytes)
        SELECT '${kind}', ${key.replace(/NEW\./g, '')}, count(*), sum(bytes) FROM mailbox
        WHERE ${key.replace(/NEW\./g, '')} IS NOT NULL GROUP BY 2;`,
   ).join('\n')}
   CREATE TRIGGER mailbox_usage_insert AFTER INSERT ON mailbox BEGIN
     ${USAGE_KEYS.map(
       ([kind, key]) =>
         `INSERT INTO mailbox_usage (kind, key, messages, bytes)
          SELECT '${kind}', ${key}, 1, NEW.bytes WHERE ${key} IS NOT NULL
          ON CONFLICT (kind, key) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes;`,
     ).join('\n')}
   END;
   CREATE TRIGGER mailbox_usage_delete AFTER DELETE ON mailbox BEGIN
     ${USAGE_KEYS.map(([kind, key]) => {
       const old = key.replace(/NEW\./g, 'OLD.');
       return `UPDATE mailbox_usage SET messages = messages - 1, bytes = bytes - OLD.bytes
               WHERE kind = '${kind}' AND key = ${old};
               DELETE FROM mailbox_usage WHERE kind = '${kind}' AND key = ${old} AND messages <= 0;`;
     }).join('\n')}
   END;
   CREATE INDEX identity_binding_identity ON identity_binding (identity_key);
   CREATE INDEX room_role_owner ON room_role (identity_key) WHERE role = 'owner';
   ALTER TABLE room ADD COLUMN emptied_at INTEGER;`,
  // Signed prekeys with a lifecycle: the current and the previous one per name and kind.
  `CREATE TABLE signed_prekey (
     name_key TEXT NOT NULL,
     kind     TEXT NOT NULL,
     slot     TEXT NOT NULL CHECK (slot IN ('current', 'previous')),
     key_id   INTEGER NOT NULL,
     created  INTEGER NOT NULL,
     pub      TEXT NOT NULL,
     sig      TEXT NOT NULL,
     pubsig   TEXT NOT NULL,
     uploaded INTEGER NOT NULL,
     PRIMARY KEY (name_key, kind, slot)
   ) STRICT, WITHOUT ROWID;`,
  // PQXDH: one-time ML-KEM-1024 prekeys, each handed out once (the signed last-resort one
  // lives in signed_prekey with kind 'ml-kem-1024' and an empty pubsig).
  `CREATE TABLE kem_prekey (
     name_key TEXT NOT NULL,
     key_id   INTEGER NOT NULL,
     created  INTEGER NOT NULL,
     pub      TEXT NOT NULL,
     sig      TEXT NOT NULL,
     added    INTEGER NOT NULL,
     PRIMARY KEY (name_key, key_id)
   ) STRICT;`,
  // "Your stored message was fetched" notices for senders who were offline at the time.
  `CREATE TABLE fetched_notice (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     sender     TEXT NOT NULL,
     id         TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX fetched_notice_sender ON fetched_notice (sender, seq);
   CREATE INDEX fetched_notice_created ON fetched_notice (created_at);`,
];

/** Brings the schema up to date in one transaction; refuses a file from a newer version. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the data file was written by a newer securechat (schema ${version}); upgrade securechat`,
    );
  }
  const apply = db.transaction(() => {
    for (let i = version; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply();
}
