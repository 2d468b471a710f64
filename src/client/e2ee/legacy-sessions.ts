import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  aesGcmOpen,
  decodeSessionState,
  fromBase64,
  hkdfSha256,
  nameKey,
} from '../../protocol/index.js';
import type { LocalIdentity } from '../identity/keystore.js';
import { fsyncDir } from '../state/config-dir.js';
import type { StateDb } from '../state/state-db.js';
import type { PrekeyStore } from './prekey-store.js';
import type { ReplayRecords } from './replay-records.js';
import type { SessionStore } from './session-store.js';

/** The decrypted contents of a session file of earlier versions (`sessions/<user>.json`). */
interface LegacyContents {
  peers: Array<[string, string[]]>;
  oneTimePrekeys: Array<[number, string]>;
  nextPrekeyId: number;
  seenInits?: string[];
  seenInitsByPeer?: Array<[string, string[]]>;
  lastResets?: Array<[string, number]>;
}

/** Reads and decrypts a legacy session file (AES-256-GCM under the identity-derived key). */
function readLegacy(path: string, identity: LocalIdentity): LegacyContents {
  const file = JSON.parse(readFileSync(path, 'utf8')) as {
    format?: unknown;
    version?: unknown;
    nonce?: unknown;
    cipher?: unknown;
  };
  if (
    file?.format !== 'securechat-sessions' ||
    file.version !== 1 ||
    typeof file.nonce !== 'string' ||
    typeof file.cipher !== 'string'
  ) {
    throw new Error(`${path} is not a securechat session file`);
  }
  const key = hkdfSha256(identity.identity.secretKey, undefined, 'securechat/v2/session-store', 32);
  const plain = aesGcmOpen(
    key,
    fromBase64(file.nonce, 'nonce', 12),
    fromBase64(file.cipher, 'cipher'),
    new TextEncoder().encode(`securechat-sessions/v1/${nameKey(identity.name)}`),
  );
  key.fill(0);
  return JSON.parse(new TextDecoder().decode(plain)) as LegacyContents;
}

/**
 * Upgrades the whole-file session store of earlier versions into the state database, in one
 * transaction, then deletes the old file (it holds secrets the new store may delete later:
 * keeping a copy would undo forward secrecy). Imported sessions keep working; their skipped
 * keys start aging now. Returns whether there was anything to import.
 * @throws when the file cannot be read or decrypted (it is then left in place).
 */
export function importLegacySessions(
  path: string,
  identity: LocalIdentity,
  stores: { db: StateDb; sessions: SessionStore; prekeys: PrekeyStore; replay: ReplayRecords },
  now: number,
): boolean {
  if (!existsSync(path)) return false;
  // Imported already (a crash came between the import and the deletion): only delete it.
  if (stores.db.meta('legacy_imported') === undefined) {
    let legacy: LegacyContents;
    try {
      legacy = readLegacy(path, identity);
    } catch (cause) {
      throw new Error(
        `${path} (the session store of an earlier version) cannot be read: ${(cause as Error).message}; move it aside to start without it`,
        { cause },
      );
    }
    importContents(legacy, stores, now);
  }
  rmSync(path);
  fsyncDir(dirname(path));
  return true;
}

function importContents(
  legacy: LegacyContents,
  stores: { db: StateDb; sessions: SessionStore; prekeys: PrekeyStore; replay: ReplayRecords },
  now: number,
): void {
  stores.db.write(() => {
    stores.db.setMeta('legacy_imported', String(now));
    for (const [peer, encoded] of legacy.peers) {
      // Most recently used first in the file: store the oldest first.
      for (const text of [...encoded].reverse()) {
        stores.sessions.put(peer, decodeSessionState(text, now), undefined, { imported: true });
      }
    }
    stores.prekeys.importOneTimePrekeys(
      legacy.oneTimePrekeys.map(([id, secret]) => [id, fromBase64(secret, 'prekey', 32)]),
      legacy.nextPrekeyId,
    );
    stores.replay.importLegacyInits(legacy.seenInits ?? [], now);
    for (const [peer, inits] of legacy.seenInitsByPeer ?? []) {
      for (const init of inits) {
        const [ephemeral, spk] = init.split('.');
        if (ephemeral && spk)
          stores.replay.recordInit(peer, fromBase64(ephemeral, 'e', 32), fromBase64(spk, 's', 32));
      }
    }
    for (const [peer, time] of legacy.lastResets ?? []) stores.replay.setLastReset(peer, time);
  });
}
