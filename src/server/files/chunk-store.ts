import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, FILE_CHUNK_BYTES, isValidFileId, nameKey } from '../../protocol/index.js';
import {
  capHashOf,
  type FileRecord,
  FileStoreError,
  lengthOf,
  recordSealedChunk,
} from './file-record.js';

/**
 * The chunk store: sealed file chunks on disk, one directory (0700) beside the database.
 * Each file is `<id>.chunks` (the sealed chunks back to back, at fixed offsets) and
 * `<id>.json` (who uploaded it, for whom, sizes, the SHA-256 of its capability, expiry),
 * both 0600. Chunks arrive in order; how many are stored is read from the chunk file's
 * length, so an upload resumes after a server restart without a write per chunk. Every
 * process sharing the directory (`--workers`) sees the same files: metadata is read from
 * disk when not known, and a recipient's download is marked by its own file
 * (`<id>.got.<name>`), so no two processes rewrite one record.
 */

export interface ChunkStoreLimits {
  /** Largest sealed upload. */
  maxFileBytes: number;
  /** Bytes one identity may have stored at once, and bytes stored in all. */
  perIdentityBytes: number;
  totalBytes: number;
  /** How long a file is kept after it was announced. */
  ttlMs: number;
}

export { type FileRecord, FileStoreError, recordChunkBytes } from './file-record.js';

export class ChunkStore {
  readonly dir: string;
  readonly limits: ChunkStoreLimits;
  #files = new Map<string, FileRecord>();
  #have = new Map<string, number>();
  #handles = new Map<string, Promise<FileHandle>>();
  /** Uploads with writes under way: the next chunk index taken, writes pending, the last write. */
  #writes = new Map<string, { accepted: number; pending: number; tail: Promise<void> }>();

  /**
   * Other processes (the nodes of a cluster) write to this directory too: what this one
   * read of a file may be out of date, so `have` reads the chunk file's length again while
   * the file is incomplete and not being written here.
   */
  readonly shared: boolean;

  constructor(dir: string, limits: ChunkStoreLimits, options: { shared?: boolean } = {}) {
    this.dir = dir;
    this.limits = limits;
    this.shared = options.shared ?? false;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.#refresh();
  }

  #path(id: string, ext: string): string {
    return join(this.dir, `${id}.${ext}`);
  }

  /** Reads every record on disk (other processes may have added or deleted files). */
  #refresh(): void {
    const seen = new Set<string>();
    for (const entry of readdirSync(this.dir)) {
      if (!entry.endsWith('.json')) continue;
      const id = entry.slice(0, -5);
      if (!isValidFileId(id)) continue;
      seen.add(id);
      if (!this.#files.has(id)) this.#load(id);
    }
    for (const id of [...this.#files.keys()]) if (!seen.has(id)) this.#forget(id);
  }

  #load(id: string): FileRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(this.#path(id, 'json'), 'utf8')) as FileRecord;
      if (record.id !== id) return undefined;
      this.#files.set(id, record);
      this.#have.set(id, this.#storedChunks(record));
      return record;
    } catch {
      return undefined;
    }
  }

  #storedChunks(record: FileRecord): number {
    let length = 0;
    try {
      length = statSync(this.#path(record.id, 'chunks')).size;
    } catch {
      return 0;
    }
    const stride = recordSealedChunk(record);
    const full = Math.min(record.chunks - 1, Math.floor(length / stride));
    const last = lengthOf(record, record.chunks - 1);
    return full === record.chunks - 1 && length >= full * stride + last ? record.chunks : full;
  }

  #save(record: FileRecord): void {
    const path = this.#path(record.id, 'json');
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, path);
  }

  #forget(id: string): void {
    this.#files.delete(id);
    this.#have.delete(id);
    const handle = this.#handles.get(id);
    this.#handles.delete(id);
    if (handle) void handle.then((h) => h.close()).catch(() => undefined);
  }

  /** The record of a file that exists and has not expired. */
  get(id: string, now: number): FileRecord | undefined {
    const record = this.#files.get(id) ?? this.#load(id);
    if (!record) return undefined;
    if (record.expires <= now) {
      this.delete(id);
      return undefined;
    }
    return record;
  }

  /**
   * Chunks of `id` stored so far. In a shared directory, an incomplete file that this
   * process is not writing is measured again (another node may be storing it: chunks are
   * written in order, so the length counts the ones fully on disk).
   */
  have(id: string): number {
    const have = this.#have.get(id) ?? 0;
    if (!this.shared || this.#writes.has(id)) return have;
    const record = this.#files.get(id);
    if (!record || have >= record.chunks) return have;
    const now = this.#storedChunks(record);
    if (now <= have) return have;
    this.#have.set(id, now);
    if (now === record.chunks) record.complete = true;
    return now;
  }

  /**
   * False when file `id` was deleted (by any process, in a shared directory): this process
   * forgets it then.
   */
  exists(id: string): boolean {
    if (!this.#files.has(id)) return false;
    if (!this.shared || existsSync(this.#path(id, 'json'))) return true;
    this.#forget(id);
    return false;
  }

  /** Sealed bytes stored (announced) by one identity, and in all. */
  usage(owner?: string): { bytes: number; files: number } {
    let bytes = 0;
    let files = 0;
    for (const record of this.#files.values()) {
      if (owner !== undefined && record.owner !== owner) continue;
      bytes += record.bytes;
      files++;
    }
    return { bytes, files };
  }

  /**
   * Announces an upload within the size limit and both quotas (announced sizes count at
   * once, so parallel uploads cannot overrun a quota). Returns its id and capability.
   * @throws FileStoreError `E_FILE_TOO_BIG`, `E_FILE_QUOTA`.
   */
  create(
    owner: { identityKey: string; name: string },
    bytes: number,
    chunks: number,
    recipients: string[],
    now: number,
    chunkBytes: number = FILE_CHUNK_BYTES,
  ): { record: FileRecord; cap: string } {
    // (the plaintext size: every chunk carries a 16-byte tag)
    if (bytes - 16 * chunks > this.limits.maxFileBytes) {
      throw new FileStoreError(
        ErrorCode.FILE_TOO_BIG,
        `the file is larger than this server's limit of ${this.limits.maxFileBytes} bytes`,
      );
    }
    this.#refresh();
    this.#expire(now);
    if (this.usage(owner.identityKey).bytes + bytes > this.limits.perIdentityBytes) {
      throw new FileStoreError(
        ErrorCode.FILE_QUOTA,
        `your files on this server would exceed ${this.limits.perIdentityBytes} bytes: wait until they are downloaded or expire`,
      );
    }
    if (this.usage().bytes + bytes > this.limits.totalBytes)
      throw new FileStoreError(ErrorCode.FILE_QUOTA, 'the server file store is full: try later');
    const id = randomBytes(16).toString('hex');
    const cap = randomBytes(32);
    const record: FileRecord = {
      id,
      owner: owner.identityKey,
      ownerName: owner.name,
      bytes,
      chunks,
      ...(chunkBytes !== FILE_CHUNK_BYTES ? { chunkBytes } : {}),
      recipients: [...new Set(recipients.map(nameKey))].filter((n) => n !== nameKey(owner.name)),
      capHash: capHashOf(cap),
      created: now,
      expires: now + this.limits.ttlMs,
      complete: false,
    };
    closeSync(openSync(this.#path(id, 'chunks'), 'wx', 0o600));
    this.#save(record);
    this.#files.set(id, record);
    this.#have.set(id, 0);
    return { record, cap: cap.toString('base64') };
  }

  /** True when `cap` (Base64) is this file's capability (compared in constant time). */
  capabilityMatches(record: FileRecord, cap: string): boolean {
    const given = Buffer.from(capHashOf(Buffer.from(cap, 'base64')), 'hex');
    return timingSafeEqual(given, Buffer.from(record.capHash, 'hex'));
  }

  /**
   * Takes chunk `index` (the next one; an earlier one is already taken and ignored, as a
   * client resending after a lost ack does) and writes it after the chunks taken before it,
   * without waiting: `written` resolves with the chunks stored once it is on disk, so a
   * session can take the next chunk while this one is written. `pending` is how many
   * writes of this file are under way (the caller waits when there are too many).
   * @throws FileStoreError `E_FILE_CHUNK` for a gap, a wrong length or a chunk past the end.
   */
  append(
    record: FileRecord,
    index: number,
    sealed: Buffer,
  ): { written: Promise<number>; pending: number } {
    const writes = this.#writes.get(record.id);
    const accepted = writes?.accepted ?? this.have(record.id);
    if (index < accepted) {
      const done = writes?.tail ?? Promise.resolve();
      return { written: done.then(() => this.have(record.id)), pending: writes?.pending ?? 0 };
    }
    if (index > accepted || index >= record.chunks)
      throw new FileStoreError(ErrorCode.FILE_CHUNK, `expected chunk ${accepted}, got ${index}`);
    if (sealed.length !== lengthOf(record, index))
      throw new FileStoreError(ErrorCode.FILE_CHUNK, `chunk ${index} has the wrong length`);
    const queue = writes ?? { accepted, pending: 0, tail: Promise.resolve() };
    this.#writes.set(record.id, queue);
    queue.accepted = index + 1;
    queue.pending++;
    const written = queue.tail.then(() => this.#write(record, index, sealed));
    queue.tail = written.then(
      () => undefined,
      () => undefined,
    );
    void queue.tail.then(() => {
      queue.pending--;
      if (queue.pending === 0 && this.#writes.get(record.id) === queue)
        this.#writes.delete(record.id);
    });
    return { written, pending: queue.pending };
  }

  async #write(record: FileRecord, index: number, sealed: Buffer): Promise<number> {
    if (!this.#files.has(record.id)) throw new FileStoreError(ErrorCode.NO_SUCH_FILE, 'deleted');
    let handle = this.#handles.get(record.id);
    if (!handle) {
      handle = open(this.#path(record.id, 'chunks'), 'r+');
      this.#handles.set(record.id, handle);
    }
    const h = await handle;
    await h.write(sealed, 0, sealed.length, index * recordSealedChunk(record));
    if (!this.#files.has(record.id)) throw new FileStoreError(ErrorCode.NO_SUCH_FILE, 'deleted');
    const now = index + 1;
    this.#have.set(record.id, now);
    if (now === record.chunks) {
      record.complete = true;
      this.#save(record);
      this.#handles.delete(record.id);
      await h.close();
    }
    return now;
  }

  /**
   * Reads chunks `from` to `to` (exclusive; stored already) in one read, into `scratch` when
   * it is big enough (the chunks returned are views of it), else into a new buffer.
   */
  async read(record: FileRecord, from: number, to: number, scratch?: Buffer): Promise<Buffer[]> {
    const stride = recordSealedChunk(record);
    const start = from * stride;
    const end = (to - 1) * stride + lengthOf(record, to - 1);
    const handle = await open(this.#path(record.id, 'chunks'), 'r');
    try {
      const buffer =
        scratch && scratch.length >= end - start
          ? scratch.subarray(0, end - start)
          : Buffer.allocUnsafe(end - start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      if (bytesRead !== buffer.length)
        throw new FileStoreError(ErrorCode.NO_SUCH_FILE, 'chunk missing');
      const chunks: Buffer[] = [];
      for (let i = from; i < to; i++) {
        const at = (i - from) * stride;
        chunks.push(buffer.subarray(at, at + lengthOf(record, i)));
      }
      return chunks;
    } finally {
      await handle.close();
    }
  }

  /**
   * A recipient has every chunk: marked; when every recipient has, the file is deleted.
   * Returns true when it was deleted.
   */
  downloaded(record: FileRecord, name: string): boolean {
    const key = nameKey(name);
    if (!record.recipients.includes(key)) return false;
    writeFileSync(this.#path(record.id, `got.${key}`), '', { mode: 0o600 });
    for (const recipient of record.recipients) {
      try {
        statSync(this.#path(record.id, `got.${recipient}`));
      } catch {
        return false;
      }
    }
    this.delete(record.id);
    return true;
  }

  /** Deletes a file with its chunks and marks. */
  delete(id: string): void {
    const record = this.#files.get(id);
    this.#forget(id);
    const names = [
      this.#path(id, 'json'),
      this.#path(id, 'chunks'),
      ...(record?.recipients ?? []).map((r) => this.#path(id, `got.${r}`)),
    ];
    for (const path of names) {
      try {
        unlinkSync(path);
      } catch {
        // already gone (another process, or never written)
      }
    }
  }

  /** Deletes expired files; returns how many. */
  #expire(now: number): number {
    let expired = 0;
    for (const record of [...this.#files.values()]) {
      if (record.expires <= now) {
        this.delete(record.id);
        expired++;
      }
    }
    return expired;
  }

  /** The sweep: picks up other processes' changes, deletes expired files. */
  sweep(now: number): number {
    this.#refresh();
    return this.#expire(now);
  }

  /** Closes open chunk files. */
  async close(): Promise<void> {
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.allSettled(handles.map(async (h) => (await h).close()));
  }
}
