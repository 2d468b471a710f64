import { join } from 'node:path';
import { nameKey } from '../../protocol/index.js';
import type { ChatClient } from '../chat-client.js';
import type { EventSink } from '../events.js';
import type { LocalIdentity } from '../identity/keystore.js';
import type { ServerSession } from '../net/server-session.js';
import { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import { TransferManager } from './transfer-manager.js';
import {
  MemoryTransferStore,
  StateTransferStore,
  type TransferPersistence,
} from './transfer-store.js';

export interface TransferSetup {
  /** Where downloads go (default: `downloads` in the config directory). */
  downloadDir: string;
  /** `--auto-accept alice:10m,bob` parsed: sender name key → largest size accepted unasked. */
  autoAccept?: ReadonlyMap<string, number>;
  /** The identity's state (transfers resume after a restart); without it, memory only. */
  state?: { db: StateDb; identity: LocalIdentity };
}

/** The default download directory of a config directory. */
export const defaultDownloadDir = (configDir: string): string => join(configDir, 'downloads');

/** The `transfers` option of ChatClient: builds the manager around the client. */
export function createTransfers(setup: TransferSetup) {
  return (client: ChatClient, sink: EventSink, link: ServerSession): TransferManager => {
    let persistence: TransferPersistence = new MemoryTransferStore();
    if (setup.state) {
      const { db, identity } = setup.state;
      const scope = `transfers:${nameKey(identity.name)}`;
      persistence = new StateTransferStore(db, new RowCipher(identity.identity.secretKey, scope));
    }
    return new TransferManager({
      persistence,
      downloadDir: setup.downloadDir,
      ...(setup.autoAccept ? { autoAccept: setup.autoAccept } : {}),
      link,
      sendOffer: (target, content) => client.sendFileOffer(target, content),
      sink,
      now: () => client.now(),
      timers: client.timers,
    });
  };
}

const SIZE = /^(\d{1,12})(k|m|g)?$/i;

/**
 * Parses `--auto-accept alice:10m,bob:500k,carol` (a name without a size: up to 10 MB).
 * @returns the map, or an error text.
 */
export function parseAutoAccept(text: string): Map<string, number> | string {
  const map = new Map<string, number>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, size] = part.split(':', 2) as [string, string | undefined];
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(name)) return `--auto-accept: "${name}" is not a user name`;
    let bytes = 10 * 1000 * 1000;
    if (size !== undefined) {
      const match = SIZE.exec(size);
      if (!match) return `--auto-accept: "${size}" is not a size like 500k, 10m or 1g`;
      const unit = (match[2] ?? '').toLowerCase();
      bytes =
        Number(match[1]) *
        (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
    }
    map.set(nameKey(name), bytes);
  }
  return map;
}
