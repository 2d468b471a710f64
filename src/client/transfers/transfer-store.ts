import type { RowCipher } from '../state/row-cipher.js';
import type { StateDb } from '../state/state-db.js';
import type { TransferRecord } from './transfer-record.js';

/** Where transfers are kept between runs. */
export interface TransferPersistence {
  save(record: TransferRecord): void;
  remove(id: string): void;
  load(): TransferRecord[];
}

const TABLE = 'transfer';

/**
 * Transfers in the identity's state database, each row sealed with the state's row cipher
 * (file keys are as protected at rest as the ratchet sessions). Written on each change of
 * state only: how far a transfer got is asked of the server (uploads) or read from the
 * temporary file's length (downloads), so progress costs no database write per chunk.
 */
export class StateTransferStore implements TransferPersistence {
  #db: StateDb;
  #cipher: RowCipher;

  constructor(db: StateDb, cipher: RowCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  save(record: TransferRecord): void {
    // (a transfer may settle after the client closed its state: nothing more to keep)
    if (!this.#db.db.open) return;
    const blob = this.#cipher.seal(TABLE, record.id, record);
    this.#db.write(() =>
      this.#db.db
        .prepare('INSERT OR REPLACE INTO transfer (id, data) VALUES (?, ?)')
        .run(record.id, blob),
    );
  }

  remove(id: string): void {
    if (!this.#db.db.open) return;
    this.#db.write(() => this.#db.db.prepare('DELETE FROM transfer WHERE id = ?').run(id));
  }

  load(): TransferRecord[] {
    const rows = this.#db.db.prepare('SELECT id, data FROM transfer').all() as Array<{
      id: string;
      data: Buffer;
    }>;
    const records: TransferRecord[] = [];
    for (const row of rows) {
      try {
        records.push(this.#cipher.open<TransferRecord>(TABLE, row.id, row.data));
      } catch {
        // a row of another identity or a damaged one: not ours to resume
      }
    }
    return records;
  }
}

/** Transfers kept in memory only (no identity state, tests). */
export class MemoryTransferStore implements TransferPersistence {
  readonly records = new Map<string, TransferRecord>();
  save(record: TransferRecord): void {
    this.records.set(record.id, structuredClone(record));
  }
  remove(id: string): void {
    this.records.delete(id);
  }
  load(): TransferRecord[] {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
}
