import { createHash, type Hash, timingSafeEqual } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import {
  chunkBytesOf,
  chunkPlainLength,
  ErrorCode,
  fromBase64,
  MAX_FILE_GET_BYTES,
  maxGetChunks,
  openChunk,
  ProtocolError,
} from '../../protocol/index.js';
import { systemTimers, type Timer, type Timers } from '../clock.js';
import {
  ensureDownloadDir,
  hashFile,
  openTemp,
  removeQuietly,
  saveUnique,
  sizeOf,
  tempPathFor,
} from './file-io.js';
import type { TransferHost } from './transfer-host.js';
import type { DownloadRecord } from './transfer-record.js';

/** Writes all of `bytes` at `position` of file `fd` (a regular file: one write, as a rule). */
function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new Error('the disk took no bytes');
    done += n;
  }
}

/**
 * `fget` requests of MAX_FILE_GET_CHUNKS chunks kept outstanding per download, beyond the
 * chunks written to disk (96 chunks, about 3 MiB in flight: bounded memory). Two (1 MiB)
 * can leave the link idle between batches; single runs went from ~67 to 75–97 MB/s, medians
 * on the loaded shared machine did not confirm it (bench/RESULTS.md).
 */
const REQUESTS_AHEAD = 6;
/**
 * The look-ahead in bytes (six requests of sixteen 32 KiB chunks): with bigger chunks
 * (`cs`), requests of maxGetChunks(cs) chunks, and as many chunks ahead as fit these bytes,
 * so memory in flight does not grow with the chunk size.
 */
const AHEAD_BYTES = REQUESTS_AHEAD * MAX_FILE_GET_BYTES;

/**
 * How often the download watchdog looks: a download with requests outstanding that got no
 * chunk between two looks (20–40 s) gives them up and asks again from the chunk it waits
 * for. A lost request (an old server dropping it, say) then costs seconds, not the transfer.
 */
export const DOWNLOAD_STALL_MS = 20_000;

/**
 * A chunk the server does not have yet, its upload stalled (`E_FILE_PENDING`): asked again
 * after this long, at most PENDING_RETRIES times in a row (about 10 minutes), then the
 * download fails.
 */
export const PENDING_RETRY_MS = 30_000;
export const PENDING_RETRIES = 20;

interface Active {
  record: DownloadRecord;
  handle: FileHandle;
  key: Uint8Array;
  transferId: Uint8Array;
  /** Next chunk expected, and the first chunk not yet asked for. */
  expected: number;
  requested: number;
  /** Chunks on disk (asking runs ahead of this by a bounded amount: memory stays bounded). */
  written: number;
  failed: boolean;
  /** `expected` at the watchdog's last look (-1 before the first). */
  watched: number;
  /**
   * SHA-256 of the plaintext, fed chunk by chunk in order as it is opened (no second read
   * of the file at the end); absent for a resumed download, which hashes the file instead.
   */
  hash?: Hash;
  /** Asking again after E_FILE_PENDING: the timer, and how many times in a row. */
  retry?: Timer;
  pendings: number;
  pendingAt: number;
}

/**
 * Downloads of accepted offers: chunks asked for a window at a time (`fget`), each opened
 * with the file key at its index (a tampered, moved, replayed or foreign chunk fails), and
 * written at its offset in a 0600 temporary file in the download directory. When the last
 * chunk (sealed as final) is in, the SHA-256 of the whole file is checked against the
 * descriptor's before it is moved under a safe, never-overwriting name; a mismatch deletes
 * it. After a restart a download goes on from the chunks its temporary file holds.
 */
export class Downloads {
  #host: TransferHost;
  #dir: string;
  #active = new Map<string, Active>();
  #starting = new Set<string>();
  #timers: Timers;
  #watchdog: Timer | undefined;
  /** Counts disconnections: a download that started before one does not go on after it. */
  #epoch = 0;
  /** Downloads cancelled while starting. */
  #stopped = new Set<string>();

  constructor(host: TransferHost, downloadDir: string, timers: Timers = systemTimers) {
    this.#host = host;
    this.#dir = downloadDir;
    this.#timers = timers;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Starts (or resumes) a download. */
  async start(record: DownloadRecord): Promise<void> {
    if (this.#active.has(record.id) || this.#starting.has(record.id)) return;
    this.#starting.add(record.id);
    try {
      await this.#start(record);
    } finally {
      this.#starting.delete(record.id);
      this.#stopped.delete(record.id);
    }
  }

  async #start(record: DownloadRecord): Promise<void> {
    const epoch = this.#epoch;
    await ensureDownloadDir(this.#dir);
    record.temp ??= tempPathFor(this.#dir, record.id);
    record.state = 'downloading';
    this.#host.save(record);
    const { offer } = record;
    const chunkBytes = chunkBytesOf(offer);
    // Chunks fully written before a restart stay; a partly written one is fetched again.
    const have = Math.min(offer.chunks - 1, Math.floor((await sizeOf(record.temp)) / chunkBytes));
    const handle = await openTemp(record.temp);
    try {
      await handle.truncate(have * chunkBytes);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    // Stopped while starting (cancelled, or the connection went down): nobody else knows
    // this handle; a cancelled download keeps no file (the open made it again).
    const cancelled = this.#stopped.delete(record.id);
    if (cancelled || epoch !== this.#epoch) {
      await handle.close().catch(() => undefined);
      if (!cancelled) return;
      await removeQuietly(record.temp);
      record.state = 'cancelled'; // (the start said downloading after the cancel said so)
      this.#host.save(record);
      return;
    }
    const active: Active = {
      record,
      handle,
      key: fromBase64(offer.key, 'key', 32),
      transferId: Buffer.from(offer.tid, 'hex'),
      expected: have,
      requested: have,
      written: have,
      failed: false,
      watched: -1,
      ...(have === 0 ? { hash: createHash('sha256') } : {}),
      pendings: 0,
      pendingAt: -1,
    };
    this.#active.set(record.id, active);
    this.#watchdog ??= this.#timers.every(DOWNLOAD_STALL_MS, () => this.#watch());
    this.#host.progress(record, have === 0 ? 'started' : 'progress', have * chunkBytes);
    this.#ask(active);
  }

  #ask(active: Active): void {
    const { offer } = active.record;
    const chunkBytes = chunkBytesOf(offer);
    const perGet = maxGetChunks(chunkBytes);
    const ahead = Math.max(2 * perGet, Math.floor(AHEAD_BYTES / chunkBytes));
    while (
      active.requested < offer.chunks &&
      active.requested - active.written < ahead &&
      this.#host.ready()
    ) {
      const n = Math.min(perGet, offer.chunks - active.requested);
      // Field order matters: the server budgets lines starting {"type":"fget", (FILE_GET_PREFIX)
      // as file traffic; under the chat frame limit a request could be dropped (a stall).
      this.#host.send({ type: 'fget', file: offer.file, cap: offer.cap, i: active.requested, n });
      active.requested += n;
    }
  }

  /** The watchdog's look: stalled downloads ask again; it stops when none is active. */
  #watch(): void {
    if (this.#active.size === 0) {
      this.#watchdog?.cancel();
      this.#watchdog = undefined;
      return;
    }
    for (const active of this.#active.values()) {
      const stalled = active.watched === active.expected && active.requested > active.expected;
      active.watched = active.expected;
      if (!stalled || !this.#host.ready()) continue;
      // What was asked and never came is given up on: ask again from the chunk due. A late
      // chunk of the old requests is then a duplicate, which chunk() skips.
      active.requested = active.expected;
      this.#ask(active);
    }
  }

  /** The active download of a server file id. */
  byFile(file: string): DownloadRecord | undefined {
    for (const active of this.#active.values())
      if (active.record.offer.file === file) return active.record;
    return undefined;
  }

  /** One sealed chunk from the server. */
  chunk(record: DownloadRecord, index: number, sealed: Uint8Array): void {
    const active = this.#active.get(record.id);
    if (!active || active.failed) return;
    const { offer } = record;
    // a chunk we already have (asked again after a stall, or replayed): nothing to write
    if (index < active.expected) return;
    if (index !== active.expected) {
      this.#fail(
        active,
        `chunk ${index} came when ${active.expected} was due`,
        ErrorCode.FILE_CHUNK,
      );
      return;
    }
    let plain: Uint8Array;
    try {
      plain = openChunk(
        active.key,
        { transferId: active.transferId, index, final: index === offer.chunks - 1 },
        sealed,
      );
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : ErrorCode.DECRYPT_FAILED;
      this.#fail(
        active,
        `chunk ${index} failed authentication (altered, replayed, reordered or cut short): the download was deleted`,
        code,
      );
      return;
    }
    const chunkBytes = chunkBytesOf(offer);
    const expectedLength = chunkPlainLength(offer.size, index, chunkBytes);
    if (plain.length !== expectedLength) {
      this.#fail(
        active,
        `chunk ${index} has the wrong length: the download was deleted`,
        ErrorCode.FILE_CHUNK,
      );
      return;
    }
    // Written at once, synchronously (into the page cache): the plaintext dies young. Held
    // across an asynchronous write, each 256 KiB was promoted and freed only by full
    // collections, the recipient's biggest cost after SHA-256 (bench/RESULTS.md, 19g).
    try {
      writeAt(active.handle.fd, plain, index * chunkBytes);
    } catch (error) {
      this.#fail(active, `saving failed: ${(error as Error).message}`);
      return;
    }
    active.expected = index + 1;
    active.written = index + 1;
    active.hash?.update(plain);
    const done = active.expected === offer.chunks;
    if (done) void this.#complete(active);
    else {
      this.#host.progress(record, 'progress', Math.min(offer.size, active.expected * chunkBytes));
      this.#ask(active);
    }
  }

  async #complete(active: Active): Promise<void> {
    const { record } = active;
    try {
      await active.handle.close();
      this.#active.delete(record.id);
      // the plaintext as opened and written, in order (a resumed download: the file)
      const digest = active.hash ? active.hash.digest() : await hashFile(record.temp!);
      const wanted = fromBase64(record.offer.digest, 'digest', 32);
      if (!timingSafeEqual(digest, wanted)) {
        await removeQuietly(record.temp);
        this.#finish(record, 'failed', {
          reason: 'the file does not match its digest: it was deleted',
          code: ErrorCode.DECRYPT_FAILED,
        });
        return;
      }
      record.saved = await saveUnique(record.temp!, this.#dir, record.offer.name);
      this.#host.send({ type: 'fdone', file: record.offer.file, cap: record.offer.cap });
      this.#finish(record, 'done', { path: record.saved });
    } catch (error) {
      await removeQuietly(record.temp);
      this.#finish(record, 'failed', { reason: `saving failed: ${(error as Error).message}` });
    }
  }

  #finish(
    record: DownloadRecord,
    state: 'done' | 'failed' | 'cancelled',
    extra: { reason?: string; code?: string; path?: string },
  ): void {
    record.state = state;
    if (extra.reason) record.reason = extra.reason;
    this.#host.save(record);
    this.#host.progress(record, state, state === 'done' ? record.offer.size : 0, extra);
  }

  /**
   * The upload this download follows stalled: what was asked is given up on and asked again
   * in PENDING_RETRY_MS (the other outstanding requests' refusals join this retry). False
   * after PENDING_RETRIES retries without a chunk.
   */
  #askLater(active: Active): boolean {
    if (active.retry) return true;
    active.pendings = active.pendingAt === active.expected ? active.pendings + 1 : 1;
    active.pendingAt = active.expected;
    if (active.pendings > PENDING_RETRIES) return false;
    active.requested = active.expected;
    active.retry = this.#timers.after(PENDING_RETRY_MS, () => {
      active.retry = undefined;
      if (this.#active.get(active.record.id) === active && !active.failed) this.#ask(active);
    });
    return true;
  }

  /** Stops a download for good: what it wrote is deleted before the failure is reported. */
  #fail(active: Active, reason: string, code?: string): void {
    active.failed = true;
    active.retry?.cancel();
    this.#active.delete(active.record.id);
    void active.handle
      .close()
      .catch(() => undefined)
      .then(() => removeQuietly(active.record.temp))
      .then(() => this.#finish(active.record, 'failed', { reason, ...(code ? { code } : {}) }));
  }

  /** The server refused a download (gone, expired, not uploaded): stop, keep nothing. */
  refused(record: DownloadRecord, code: string, text: string): void {
    const active = this.#active.get(record.id);
    if (active && code === ErrorCode.FILE_PENDING && this.#askLater(active)) return;
    if (active) this.#fail(active, `the server refused: ${text}`, code);
    else this.#finish(record, 'failed', { reason: `the server refused: ${text}`, code });
  }

  /** Stops a download and deletes what it wrote. */
  async cancel(record: DownloadRecord): Promise<void> {
    if (this.#starting.has(record.id)) this.#stopped.add(record.id); // (it stops once started)
    const active = this.#active.get(record.id);
    if (active) {
      active.failed = true;
      this.#active.delete(record.id);
      await active.handle.close().catch(() => undefined);
    }
    await removeQuietly(record.temp);
    this.#finish(record, 'cancelled', {});
  }

  /** The connection went down: requests in flight are lost; resumed after the welcome. */
  async disconnected(): Promise<void> {
    this.#epoch++; // (downloads still starting stop too)
    const actives = [...this.#active.values()];
    this.#active.clear();
    for (const active of actives) await active.handle.close().catch(() => undefined);
  }
}
