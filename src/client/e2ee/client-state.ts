import { randomBytes } from 'node:crypto';
import { toBase64 } from '../../protocol/index.js';
import type { LocalIdentity } from '../identity/keystore.js';
import { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import type { RollbackReason } from '../state/witness.js';
import { KemPrekeyStore } from './kem-prekey-store.js';
import { importLegacySessions } from './legacy-sessions.js';
import { type ClientLimits, clientLimits } from './limits.js';
import { PrekeyStore } from './prekey-store.js';
import { ReplayRecords } from './replay-records.js';
import { SessionStore } from './session-store.js';

/** The end-to-end state of one identity, loaded from its (locked) state database. */
export interface ClientState {
  readonly db: StateDb;
  readonly sessions: SessionStore;
  readonly prekeys: PrekeyStore;
  /** PQXDH: our ML-KEM-1024 prekeys (one-time and last resort). */
  readonly kemPrekeys: KemPrekeyStore;
  readonly replay: ReplayRecords;
  readonly limits: ClientLimits;
  /** Set when this state was found older than the last one written (and was handled). */
  readonly rolledBack: RollbackReason | undefined;
  /** Whether a session file of an earlier version was upgraded at this start. */
  readonly migrated: boolean;
}

/**
 * Loads an identity's state from its database: checks it belongs to this identity, upgrades
 * an earlier version's session file, and handles a restored (older) state: every session
 * is marked stale (the next message to anyone starts a new session, so no message key or
 * message number is used again), and the signed prekey is rotated at once.
 * @throws when the database belongs to another identity key.
 */
export function loadClientState(
  db: StateDb,
  identity: LocalIdentity,
  options: { now?: () => number; limits?: Partial<ClientLimits> } = {},
): ClientState {
  const now = options.now ?? Date.now;
  const limits = clientLimits(options.limits);
  const owner = toBase64(identity.identity.publicKey);
  const recorded = db.meta('identity');
  if (recorded !== undefined && recorded !== owner) {
    throw new Error(
      `${db.paths.db} belongs to another identity key than ${identity.name}'s: move it (and ${db.paths.witness}) aside to start afresh`,
    );
  }
  if (recorded === undefined) db.write(() => db.setMeta('identity', owner));
  const cipher = new RowCipher(identity.identity.secretKey, owner);
  const runId = randomBytes(9).toString('base64url');
  const sessions = new SessionStore(db, cipher, { limits, now, runId });
  const prekeys = new PrekeyStore(db, cipher, identity.identity, { limits, now });
  const replay = new ReplayRecords(db, cipher, limits, now);
  const kemPrekeys = new KemPrekeyStore(db, cipher, identity.identity, now);
  const migrated = importLegacySessions(
    db.paths.legacy,
    identity,
    { db, sessions, prekeys, replay },
    now(),
  );
  const rolledBack = db.rolledBack;
  if (rolledBack) {
    db.write(() => {
      sessions.markAllStale();
      for (const publicKey of prekeys.maintain(true).deleted) replay.forgetInitsFor(publicKey);
      kemPrekeys.maintain(true);
    });
  }
  return { db, sessions, prekeys, kemPrekeys, replay, limits, rolledBack, migrated };
}
