import { createHash, randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  chunkCount,
  chunkPlainLength,
  FILE_CHUNK_BYTES,
  type FileContent,
  formatBytes,
  isValidName,
  isValidRoom,
  toBase64,
} from '../../protocol/index.js';
import { guessMime, hashFile } from './file-io.js';
import { hashFileOffThread } from './hash-worker.js';
import type { TransferHost } from './transfer-host.js';
import type { UploadRecord } from './transfer-record.js';
import {
  type Active,
  chunksIn,
  READ_AHEAD_BYTES,
  uploadChunkBytes,
  WINDOW_BYTES,
} from './upload-active.js';
import { chunkFrame, fileContent } from './upload-frames.js';

/**
 * Our uploads: announce the file (`fnew`), send sealed chunks in order with a bounded window
 * (`fput`, acknowledged by `fack`) while hashing the plaintext as it is read, then send the
 * descriptor (with that digest) inside the E2EE message. A restart or reconnect resumes from what the server reports (`fstat`);
 * a file changed since it was hashed starts over as a new transfer, with a new key.
 */
export class Uploads {
  #host: TransferHost;
  #active = new Map<string, Active>();

  constructor(host: TransferHost) {
    this.#host = host;
  }

  /**
   * Starts sending `path` to a user or #room. Resolves with the record or an error text.
   * @param maxBytes the server's `--max-file-size` from its welcome: a larger file is refused
   *   here, before it is hashed or announced.
   */
  async send(target: string, path: string, maxBytes?: number): Promise<UploadRecord | string> {
    if (!isValidName(target) && !isValidRoom(target))
      return `"${target}" is neither a user name nor a #room`;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      return `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
    }
    if (!info.isFile()) return `${path} is not a regular file`;
    if (maxBytes !== undefined && info.size > maxBytes)
      return `${basename(path)} (${formatBytes(info.size)}) is larger than this server takes (${formatBytes(maxBytes)})`;
    const record = await this.#fresh(target, path, info.size, info.mtimeMs);
    this.#host.progress(record, 'started', 0);
    // The digest on a worker thread while the upload goes on: the offer (which carries it)
    // goes out as soon as both the announce is accepted and the hash is done, so recipients
    // download alongside the upload, and the upload does not wait for the hash.
    this.#hashing.set(record.id, hashFileOffThread(path));
    this.#host.save(record);
    this.#announce(record);
    return record;
  }

  /** Digests being computed off the main thread, per transfer id (a reason when unreadable). */
  #hashing = new Map<string, Promise<Buffer | string>>();

  /** True once the record's digest is known (its hashing awaited); a reason when it cannot be. */
  digestOf(record: UploadRecord): Promise<true | string> {
    return this.#digest(record);
  }

  async #digest(record: UploadRecord): Promise<true | string> {
    if (record.digest !== '') return true;
    const hashing = this.#hashing.get(record.id);
    if (!hashing) return 'not hashed';
    const digest = await hashing;
    if (typeof digest === 'string') return `cannot read ${record.path}: ${digest}`;
    record.digest ||= toBase64(digest);
    return true;
  }

  async #fresh(target: string, path: string, size: number, mtimeMs: number): Promise<UploadRecord> {
    const name = basename(path);
    const chunkBytes = this.#host.chunkBytes();
    return {
      dir: 'up',
      id: randomBytes(16).toString('hex'),
      path,
      size,
      mtimeMs,
      target,
      name,
      mime: guessMime(name),
      chunks: chunkCount(size, chunkBytes),
      ...(chunkBytes !== FILE_CHUNK_BYTES ? { chunkBytes } : {}),
      key: toBase64(randomBytes(32)),
      // filled in once every chunk is sent (hashed while uploading), before the offer
      digest: '',
      state: 'announcing',
      created: this.#host.now(),
    };
  }

  /** The message id of a record's `fnew` (fok and errors name it). */
  static announceId(record: UploadRecord): string {
    return `f${record.id.slice(0, 24)}`;
  }

  #announce(record: UploadRecord): void {
    const sealedBytes = record.size + 16 * record.chunks;
    const where = record.target.startsWith('#') ? { room: record.target } : { to: record.target };
    this.#host.send({
      type: 'fnew',
      id: Uploads.announceId(record),
      bytes: sealedBytes,
      chunks: record.chunks,
      ...(record.chunkBytes !== undefined ? { cs: record.chunkBytes } : {}),
      ...where,
    });
  }

  /**
   * The server accepted an announce: upload, and (the digest being known) offer the file at
   * once, so recipients fetch chunks while the rest is uploaded (the server holds their
   * requests for chunks not stored yet).
   */
  announced(record: UploadRecord, file: string, cap: string): void {
    record.file = file;
    record.cap = cap;
    record.state = 'uploading';
    this.#host.save(record);
    this.#start(record, 0);
    // (a server without `fhold` refuses an fget for a chunk not stored yet: offer at the end)
    if ((record.digest !== '' || this.#hashing.has(record.id)) && this.#host.offerEarly())
      this.#offerEarly(record);
  }

  /** The offer sent during the upload, per transfer id (the upload's end waits for it). */
  #early = new Map<string, Promise<true | string>>();
  /**
   * Uploads whose offer went out on this connection. An offer is not acknowledged: one sent
   * just before the connection dropped may never have left, so after a reconnect the offer
   * goes again (recipients drop a repeated offer by its transfer id).
   */
  #offeredOn = new Set<string>();

  #offerEarly(record: UploadRecord): void {
    if (record.offered || this.#early.has(record.id)) return;
    // (set at once, the hash awaited inside: the upload's end always finds and awaits it)
    const sent = this.#digest(record).then(async (hashed) => {
      if (hashed !== true) return hashed;
      const outcome = await this.#host.sendOffer(record.target, this.#content(record));
      if (outcome === true) {
        record.offered = true;
        this.#offeredOn.add(record.id);
        if (record.state === 'uploading') this.#host.save(record);
      }
      return outcome;
    });
    this.#early.set(record.id, sent);
  }

  #start(record: UploadRecord, have: number): void {
    // (started again while active: the run it replaces stops, and closes its file)
    void this.#active
      .get(record.id)
      ?.handle?.close()
      .catch(() => undefined);
    const active: Active = {
      record,
      next: have,
      acked: have,
      pumping: false,
      ...(have === 0 && record.digest === '' && !this.#hashing.has(record.id)
        ? { hash: createHash('sha256') }
        : {}),
      hashedBytes: 0,
    };
    this.#active.set(record.id, active);
    if (have >= record.chunks) {
      void this.#finish(active);
      return;
    }
    void this.#pump(active);
  }

  async #pump(active: Active): Promise<void> {
    if (active.pumping) return;
    active.pumping = true;
    try {
      const { record } = active;
      active.handle ??= await open(record.path, 'r');
      // (stopped while the file was being opened: nobody else closes it)
      if (this.#active.get(record.id) !== active) return void (await active.handle.close());
      const binary = this.#host.binaryChunks();
      const window = chunksIn(WINDOW_BYTES, uploadChunkBytes(record));
      while (
        this.#active.get(record.id) === active &&
        active.next < record.chunks &&
        active.next - active.acked < window &&
        this.#host.ready()
      ) {
        const index = active.next;
        const plain = await this.#plain(active, index);
        this.#host.send(chunkFrame(record, index, plain, binary));
        active.next = index + 1;
      }
    } catch (error) {
      // (an upload stopped meanwhile closed its handle: not a failure)
      if (this.#active.get(active.record.id) === active)
        this.fail(active.record, `cannot read ${active.record.path}: ${(error as Error).message}`);
    } finally {
      active.pumping = false;
    }
  }

  /** The plaintext of chunk `index`, from the block read ahead (reading the next block when needed). */
  async #plain(active: Active, index: number): Promise<Buffer> {
    const { record } = active;
    const block = active.block;
    const chunkBytes = uploadChunkBytes(record);
    const ahead = chunksIn(READ_AHEAD_BYTES, chunkBytes);
    if (!block || index < block.from || index >= block.from + ahead) {
      const to = Math.min(record.chunks, index + ahead);
      const start = index * chunkBytes;
      const length = Math.max(0, Math.min(record.size, to * chunkBytes) - start);
      active.readBuffer ??= Buffer.allocUnsafeSlow(ahead * chunkBytes);
      const bytes = active.readBuffer.subarray(0, length);
      const { bytesRead } = await active.handle!.read(bytes, 0, length, start);
      if (bytesRead !== length) throw new Error('the file got shorter while it was sent');
      active.block = { from: index, bytes };
      if (active.hash && start === active.hashedBytes) {
        active.hash.update(bytes);
        active.hashedBytes += length;
      } else delete active.hash;
    }
    const from = active.block!.from;
    const at = (index - from) * chunkBytes;
    return active.block!.bytes.subarray(at, at + chunkPlainLength(record.size, index, chunkBytes));
  }

  /** `fack`: the server holds `have` chunks. */
  acked(record: UploadRecord, have: number): void {
    const active = this.#active.get(record.id);
    if (!active) return;
    active.acked = Math.max(active.acked, have);
    this.#host.progress(record, 'progress', Math.min(record.size, have * uploadChunkBytes(record)));
    if (active.acked >= record.chunks) void this.#finish(active);
    else void this.#pump(active);
  }

  /**
   * Uploads whose `fstat` (sent after a reconnect) is not answered yet. An `fstate` restarts
   * an upload only as the answer to one of these, once: a server repeating `fstate` at will
   * would otherwise make this client re-read and re-send the file from `have` each time.
   */
  #asked = new Set<string>();

  /** `fstate` after a reconnect: go on from what the server has (unasked: ignored). */
  resumeFrom(record: UploadRecord, have: number): void {
    if (!this.#asked.delete(record.id)) return;
    this.#start(record, have);
  }

  async #finish(active: Active): Promise<void> {
    const { record } = active;
    this.#active.delete(record.id);
    await active.handle?.close().catch(() => undefined);
    if (record.digest === '' && this.#hashing.has(record.id)) {
      const hashed = await this.#digest(record);
      this.#hashing.delete(record.id);
      if (hashed !== true) {
        this.fail(record, hashed);
        return;
      }
    }
    if (record.digest === '') {
      try {
        const digest =
          active.hash && active.hashedBytes === record.size
            ? active.hash.digest()
            : await hashFile(record.path);
        record.digest = toBase64(digest);
      } catch (error) {
        this.fail(record, `cannot read ${record.path}: ${(error as Error).message}`);
        return;
      }
    }
    record.state = 'offering';
    this.#host.save(record);
    const early = this.#early.get(record.id);
    this.#early.delete(record.id);
    if (early) await early;
    if (record.offered && this.#offeredOn.has(record.id)) this.#offered(record);
    else await this.#offer(record);
  }

  #content(record: UploadRecord): FileContent {
    return fileContent(record, this.#host.now());
  }

  async #offer(record: UploadRecord): Promise<void> {
    const sent = await this.#host.sendOffer(record.target, this.#content(record));
    if (sent !== true) {
      this.fail(record, `the file is on the server but the offer could not be sent: ${sent}`);
      return;
    }
    record.offered = true;
    this.#offeredOn.add(record.id);
    this.#offered(record);
  }

  /** Every chunk is stored and the recipients have the offer. */
  #offered(record: UploadRecord): void {
    record.state = 'done';
    this.#host.save(record);
    this.#host.progress(record, 'done', record.size);
  }

  /**
   * After a welcome: every unfinished upload goes on. One changed since it was hashed starts
   * over as a new transfer (new key: a key never seals two different chunks at one index).
   */
  async resumeAll(records: UploadRecord[]): Promise<void> {
    for (const record of records) {
      this.#stop(record);
      if (record.state === 'offering') {
        await this.#offer(record); // (again if it was: see #offeredOn)
        continue;
      }
      if (record.state !== 'announcing' && record.state !== 'uploading') continue;
      let info: Awaited<ReturnType<typeof stat>> | undefined;
      try {
        info = await stat(record.path);
      } catch {
        info = undefined;
      }
      if (!info) {
        this.fail(record, `${record.path} is gone`);
        continue;
      }
      // Not announced yet and the server now takes another chunk size (a reconnect to an
      // older server, say): started over at the size this server takes.
      const resized =
        record.state === 'announcing' && uploadChunkBytes(record) !== this.#host.chunkBytes();
      if (info.size !== record.size || info.mtimeMs !== record.mtimeMs || resized) {
        if (record.file) this.#host.send({ type: 'fdel', file: record.file });
        const fresh = await this.#fresh(record.target, record.path, info.size, info.mtimeMs);
        this.#host.replace(record, fresh);
        this.#announce(fresh);
        continue;
      }
      if (record.state === 'announcing') this.#announce(record);
      else {
        this.#asked.add(record.id);
        this.#host.send({ type: 'fstat', file: record.file });
      }
    }
  }

  /** Forgets a run of `record` (closing its file) and any `fstat` of it still unanswered. */
  #stop(record: UploadRecord): void {
    const active = this.#active.get(record.id);
    this.#active.delete(record.id);
    this.#asked.delete(record.id);
    void active?.handle?.close().catch(() => undefined);
  }

  /** Stops an upload and withdraws the file from the server. */
  cancel(record: UploadRecord): void {
    this.#stop(record);
    this.#hashing.delete(record.id);
    if (record.file) this.#host.send({ type: 'fdel', file: record.file });
    record.state = 'cancelled';
    this.#host.save(record);
    this.#host.progress(record, 'cancelled', 0);
  }

  fail(record: UploadRecord, reason: string, code?: string): void {
    this.#stop(record);
    this.#hashing.delete(record.id);
    record.state = 'failed';
    record.reason = reason;
    this.#host.save(record);
    this.#host.progress(record, 'failed', 0, { reason, ...(code ? { code } : {}) });
  }

  /** The connection went down: nothing is in flight any more (resumed after the welcome). */
  disconnected(): void {
    for (const active of this.#active.values()) void active.handle?.close().catch(() => undefined);
    this.#active.clear();
    this.#asked.clear();
    this.#offeredOn.clear();
  }
}
