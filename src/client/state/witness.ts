import { existsSync, readFileSync } from 'node:fs';
import { writePrivateFileAtomic } from './config-dir.js';

/**
 * The generation witness: a small file beside the state database holding the store's id
 * and the generation of its last committed write. The database keeps its own generation;
 * a database older than its witness was restored (or copied) from an older state.
 */
export interface Witness {
  storeId: string;
  generation: number;
}

const FORMAT = 'securechat-state-witness';

/** Reads the witness (undefined when absent or unreadable). */
export function readWitness(path: string): Witness | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as {
      format?: unknown;
      storeId?: unknown;
      generation?: unknown;
    };
    if (
      raw.format !== FORMAT ||
      typeof raw.storeId !== 'string' ||
      !Number.isSafeInteger(raw.generation)
    )
      return undefined;
    return { storeId: raw.storeId, generation: raw.generation as number };
  } catch {
    return undefined;
  }
}

/** Writes the witness atomically and durably (temporary file, fsync, rename, fsync of the directory). */
export function writeWitness(path: string, witness: Witness): void {
  writePrivateFileAtomic(path, `${JSON.stringify({ format: FORMAT, ...witness })}\n`);
}

/** Why a loaded state is not known to be the latest one this identity wrote. */
export type RollbackReason =
  /** The witness names a later generation: the database was restored from an older copy. */
  | 'older-than-witness'
  /** The witness belongs to another store: the database was replaced by another copy. */
  | 'other-store'
  /** A database that was written to, without its witness. */
  | 'witness-missing';

/** Compares a database's id and generation with its witness. */
export function checkWitness(
  storeId: string,
  generation: number,
  witness: Witness | undefined,
): RollbackReason | undefined {
  if (!witness) return generation > 0 ? 'witness-missing' : undefined;
  if (witness.storeId !== storeId) return 'other-store';
  if (witness.generation > generation) return 'older-than-witness';
  return undefined;
}
