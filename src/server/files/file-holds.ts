import { ErrorCode } from '../../protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { ChunkStore } from './chunk-store.js';
import { type FileRecord, FileStoreError } from './file-record.js';

/**
 * How long an `fget` for a chunk not uploaded yet is held, waiting for the upload (a
 * recipient downloads while the sender still uploads). The session's later frames wait
 * behind it, as behind any download, so each connection holds at most one; after this it
 * is refused (`E_FILE_PENDING`: ask again later), and so is at once any `fget` for a file
 * whose upload stored nothing for this long (a client waits at most this long in all).
 */
export const FILE_HOLD_MS = 30_000;

/**
 * In a cluster, how often a held `fget` looks at the chunk file again: the upload may go on
 * through another node, whose writes wake nobody here.
 */
export const FILE_POLL_MS = 100;

const pending = () =>
  new FileStoreError(
    ErrorCode.FILE_PENDING,
    'that chunk is not uploaded yet and the upload is not going on: ask again later',
  );

/** A held `fget`: woken when the file has `want` chunks, or when it goes away. */
interface Waiter {
  want: number;
  wake(have: number): void;
  gone(): void;
}

/**
 * Downloads alongside uploads (`fhold`): the `fget`s waiting for chunks not stored yet, woken
 * by this process's writes (and in a cluster by looking at the chunk file again), and when
 * each upload last made progress, so a stalled one is not waited for.
 */
export class FileHolds {
  #store: ChunkStore;
  #clock: Clock;
  /** Held `fget`s per file id (bounded: one per connection). */
  #waiters = new Map<string, Set<Waiter>>();
  /** When each upload under way last stored a chunk (a stalled one is not waited for). */
  #lastStored = new Map<string, number>();
  /** In a cluster: chunks of each upload under way last seen here (to notice progress). */
  #seen = new Map<string, number>();

  constructor(store: ChunkStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** This process stored chunks of `record`: it now holds `have`; the `fget`s it satisfies go on. */
  stored(record: FileRecord, have: number): void {
    if (have === record.chunks) this.#lastStored.delete(record.id);
    else this.#lastStored.set(record.id, this.#clock.now());
    this.#wake(record.id, have);
  }

  /**
   * Chunks of `record` stored. In a cluster another node may be storing them: progress seen
   * here counts as a chunk stored now (a stalled upload is not waited for).
   */
  have(record: FileRecord): number {
    const have = this.#store.have(record.id);
    if (!this.#store.shared || have <= (this.#seen.get(record.id) ?? 0)) return have;
    if (have === record.chunks) {
      this.#seen.delete(record.id);
      this.#lastStored.delete(record.id);
    } else {
      this.#seen.set(record.id, have);
      this.#lastStored.set(record.id, this.#clock.now());
    }
    return have;
  }

  /**
   * Resolves once `record` holds `want` chunks; refused at once when its upload stalled,
   * after FILE_HOLD_MS, or when it goes.
   * Woken by this process's writes; in a cluster it also looks every FILE_POLL_MS.
   */
  arrival(record: FileRecord, want: number): Promise<number> {
    const id = record.id;
    // An upload that stored nothing for FILE_HOLD_MS is stalled: no hold (a client's later
    // requests would each wait the whole time), ask again later.
    const last = this.#lastStored.get(id) ?? record.created;
    if (this.#clock.now() - last >= FILE_HOLD_MS) return Promise.reject(pending());
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(id) ?? new Set<Waiter>();
      this.#waiters.set(id, waiters);
      let poll: TimerHandle | undefined;
      const look = () => {
        if (!this.#store.exists(id)) return waiter.gone();
        const have = this.have(record);
        if (have >= want) return waiter.wake(have);
        poll = this.#clock.setTimeout(look, FILE_POLL_MS);
      };
      const done = () => {
        this.#clock.clearTimeout(timer);
        if (poll !== undefined) this.#clock.clearTimeout(poll);
        waiters.delete(waiter);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
      };
      const waiter: Waiter = {
        want,
        wake: (have) => {
          done();
          resolve(have);
        },
        gone: () => {
          done();
          reject(new FileStoreError(ErrorCode.NO_SUCH_FILE, 'no such file (or it expired)'));
        },
      };
      const timer = this.#clock.setTimeout(() => {
        done();
        reject(pending());
      }, FILE_HOLD_MS);
      waiters.add(waiter);
      if (this.#store.shared) poll = this.#clock.setTimeout(look, FILE_POLL_MS);
    });
  }

  /** File `id` now holds `have` chunks: the held `fget`s it satisfies go on. */
  #wake(id: string, have: number): void {
    const waiters = this.#waiters.get(id);
    if (!waiters) return;
    for (const waiter of [...waiters]) if (have >= waiter.want) waiter.wake(have);
  }

  /** File `id` was withdrawn or deleted: its held `fget`s are refused, its progress forgotten. */
  gone(id: string): void {
    this.#lastStored.delete(id);
    this.#seen.delete(id);
    const waiters = this.#waiters.get(id);
    if (waiters) for (const waiter of [...waiters]) waiter.gone();
  }
}
