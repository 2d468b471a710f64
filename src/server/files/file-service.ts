import {
  ErrorCode,
  encodeError,
  encodeFileAck,
  encodeFileChunk,
  encodeFileChunkHeader,
  encodeFileOk,
  encodeFileState,
  FILE_CHUNK_BYTES,
  type FileClientFrame,
  type FileGetFrame,
  type FileNewFrame,
  type FilePutFrame,
  maxGetChunks,
} from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { BodyPool } from './body-pool.js';
import {
  type ChunkStore,
  type FileRecord,
  FileStoreError,
  recordChunkBytes,
} from './chunk-store.js';
import { FileHolds } from './file-holds.js';

export { FILE_HOLD_MS, FILE_POLL_MS } from './file-holds.js';

import type { FileStats } from './file-stats.js';
import { ReadBuffers } from './read-buffers.js';

/** What the file service needs of a session. */
export interface FileSession {
  readonly name: string;
  readonly identityKey: string | undefined;
  readonly open: boolean;
  reply(line: string, kind: string): boolean;
  /** Binary chunk mode (`fbin`): chunks go out as a header line and raw bytes. */
  readonly binaryChunks: boolean;
  /**
   * Queues a header line and the raw bytes after it. The bytes are copied before it returns,
   * unless `lent` is given: then they may be written as they are, and `lent` is called once
   * they are no longer needed (downloads read chunks into buffers that go back to a pool
   * only then).
   */
  replyBytes(header: string, body: Uint8Array, lent?: () => void): boolean;
  /** Bytes queued for the client, not yet written to the socket. */
  readonly queuedBytes: number;
  /** Resolves once the queued output drained. */
  whenDrained(): Promise<void>;
}

/** Room membership as the file service needs it: a room's members now, if `member` is one. */
export interface FileRooms<S> {
  membersOf(room: string, member: S): string[] | undefined;
}

/**
 * Queued bytes of chunk replies one download may keep waiting in its client's output
 * queue: well under the 1 MiB chat queue (`--max-send-queue`), so chat to a downloading
 * client is never dropped for lack of room, while a few chunks are always in flight.
 */
export const FILE_QUEUE_BUDGET = 512 * 1024;

/** Chunk writes of one upload under way before the session waits for them (about 1 MiB). */
const MAX_PENDING_WRITES = 32;
/** The same in bytes: with bigger chunks, fewer writes (at least two) may be under way. */
const pendingWritesFor = (record: FileRecord): number =>
  Math.max(2, Math.floor((MAX_PENDING_WRITES * FILE_CHUNK_BYTES) / recordChunkBytes(record)));

/** Chunks bigger than 32 KiB travel in binary mode only (a JSON line would exceed the limit). */
const needsBinary = (chunkBytes: number, session: FileSession): FileStoreError | undefined =>
  chunkBytes > FILE_CHUNK_BYTES && !session.binaryChunks
    ? new FileStoreError(
        ErrorCode.FILE_CHUNK,
        `this file's chunks are ${chunkBytes} bytes: only binary mode (fbin) carries chunks over ${FILE_CHUNK_BYTES} bytes`,
      )
    : undefined;

/**
 * File transfer on the server (protocol `files`): announces, in-order chunk uploads into the
 * chunk store, downloads paced by the client's output queue, completion and withdrawal.
 * A recipient proves itself with the capability the uploader put in the E2EE descriptor
 * (compared in constant time); the uploader is recognised by its identity key.
 */
export class FileService<S extends FileSession> {
  readonly store: ChunkStore;
  #rooms: FileRooms<S>;
  #clock: Clock;
  readonly stats: FileStats;
  #logger: Logger;
  /** `fget`s waiting for chunks still being uploaded. */
  #holds: FileHolds;
  /** The buffers downloads read chunks into (reused, bounded). */
  readonly readBuffers = new ReadBuffers();
  /** The buffers uploaded chunks' bodies are read into (back once on disk; bounded). */
  readonly bodies = new BodyPool();
  /** For a session's stream decoder: a body buffer of `length` bytes. */
  readonly bodyBuffer = (length: number): Uint8Array => this.bodies.allocate(length);

  constructor(o: {
    store: ChunkStore;
    rooms: FileRooms<S>;
    clock: Clock;
    stats: FileStats;
    logger: Logger;
  }) {
    this.store = o.store;
    this.#rooms = o.rooms;
    this.#clock = o.clock;
    this.stats = o.stats;
    this.#logger = o.logger;
    this.#holds = new FileHolds(o.store, o.clock);
  }

  /**
   * Handles a file frame. Returns a promise only when the session's next line must wait
   * (a download being written out, an upload with too many writes under way): most `fput`
   * lines return at once, so the next one is read without pausing the socket.
   */
  handle(session: S, frame: FileClientFrame): void | Promise<void> {
    try {
      const pending = this.#dispatch(session, frame);
      if (pending) return pending.catch((error: unknown) => this.#refuse(session, frame, error));
    } catch (error) {
      this.#refuse(session, frame, error);
    }
  }

  #dispatch(session: S, frame: FileClientFrame): void | Promise<void> {
    switch (frame.type) {
      case 'fnew':
        return this.#announce(session, frame);
      case 'fput':
        return this.#put(session, frame);
      case 'fstat': {
        const record = this.#find(frame.file, session, frame.cap);
        const have = this.store.have(record.id);
        session.reply(encodeFileState(record.id, have, record.chunks, record.complete), 'fstate');
        return;
      }
      case 'fget':
        return this.#get(session, frame);
      case 'fdone': {
        const record = this.#find(frame.file, session, frame.cap);
        if (this.store.downloaded(record, session.name)) {
          this.stats.deleted.inc('downloaded');
          this.#logger.info({ event: 'file.downloaded', file: record.id });
        }
        return;
      }
      case 'fdel': {
        const record = this.#find(frame.file, session);
        this.store.delete(record.id);
        this.#holds.gone(record.id);
        this.stats.deleted.inc('withdrawn');
        return;
      }
    }
  }

  /** A refusal the client should hear (`E_FILE_*`, `E_NO_SUCH_FILE`); anything else is a bug. */
  #refuse(session: S, frame: FileClientFrame, error: unknown): void {
    if (!(error instanceof FileStoreError)) throw error;
    const ref = frame.type === 'fnew' ? frame.id : frame.file;
    this.stats.refused.inc(error.code);
    session.reply(encodeError(error.code, error.message, ref), 'error');
  }

  /** The file, to its uploader (no capability given) or to a holder of its capability. */
  #find(id: string, session: S, cap?: string): FileRecord {
    const record = this.store.get(id, this.#clock.now());
    const allowed =
      record !== undefined &&
      (cap === undefined
        ? record.owner === session.identityKey
        : this.store.capabilityMatches(record, cap));
    if (!allowed) throw new FileStoreError(ErrorCode.NO_SUCH_FILE, 'no such file (or it expired)');
    return record;
  }

  #announce(session: S, frame: FileNewFrame): void {
    let recipients: string[];
    if (frame.room !== undefined) {
      const members = this.#rooms.membersOf(frame.room, session);
      if (!members) throw new FileStoreError(ErrorCode.NOT_MEMBER, `you are not in ${frame.room}`);
      recipients = members;
    } else {
      recipients = [frame.to!];
    }
    const chunkBytes = frame.cs ?? FILE_CHUNK_BYTES;
    const refusal = needsBinary(chunkBytes, session);
    if (refusal) throw refusal;
    const { record, cap } = this.store.create(
      { identityKey: session.identityKey!, name: session.name },
      frame.bytes,
      frame.chunks,
      recipients,
      this.#clock.now(),
      chunkBytes,
    );
    this.stats.announced++;
    this.#logger.info({
      event: 'file.announced',
      file: record.id,
      bytes: record.bytes,
      recipients: record.recipients.length,
    });
    session.reply(encodeFileOk(frame.id, record.id, cap), 'fok');
  }

  /**
   * Takes a chunk and answers `fack` once it is on disk; the session goes on to its next
   * line meanwhile (uploads are pipelined), unless MAX_PENDING_WRITES of this file are still
   * being written: then it waits, and the client's input waits with it.
   */
  #put(session: S, frame: FilePutFrame): void | Promise<void> {
    const record = this.#find(frame.file, session);
    const { written, pending } = this.store.append(
      record,
      frame.i,
      Buffer.from(frame.sealed.buffer, frame.sealed.byteOffset, frame.sealed.byteLength),
    );
    this.stats.chunksIn++;
    this.stats.bytesIn += frame.sealed.length;
    const answered = written.then(
      (have) => {
        this.bodies.release(frame.sealed); // (on disk: its buffer goes back to the pool)
        if (have === record.chunks && frame.i === have - 1) this.stats.uploaded++;
        this.#holds.stored(record, have);
        if (session.open) session.reply(encodeFileAck(record.id, have), 'fack');
      },
      (error: unknown) => {
        this.bodies.release(frame.sealed);
        const code = error instanceof FileStoreError ? error.code : ErrorCode.INTERNAL;
        this.stats.refused.inc(code);
        if (session.open)
          session.reply(encodeError(code, 'the chunk could not be stored', record.id), 'error');
      },
    );
    if (pending > pendingWritesFor(record)) return answered;
  }

  /**
   * Sends chunks `i` to `i + n` (within the file) in order, each only while the client's
   * queue is under FILE_QUEUE_BUDGET. A chunk not uploaded yet is waited for (the upload is
   * still under way: the recipient downloads alongside it), up to FILE_HOLD_MS.
   */
  async #get(session: S, frame: FileGetFrame): Promise<void> {
    const record = this.#find(frame.file, session, frame.cap);
    if (frame.i >= record.chunks)
      throw new FileStoreError(ErrorCode.FILE_CHUNK, 'past the last chunk');
    const chunkBytes = recordChunkBytes(record);
    const refusal = needsBinary(chunkBytes, session);
    if (refusal) throw refusal;
    // One request reads at most MAX_FILE_GET_BYTES into memory, whatever the chunk size.
    if (frame.n > maxGetChunks(chunkBytes))
      throw new FileStoreError(
        ErrorCode.FILE_CHUNK,
        `at most ${maxGetChunks(chunkBytes)} chunks of this file per fget (its chunks are ${chunkBytes} bytes)`,
      );
    const end = Math.min(frame.i + frame.n, record.chunks);
    let next = frame.i;
    while (next < end) {
      let have = this.#holds.have(record);
      // Not stored yet: wait for the rest of this request at once (one read per batch, not
      // an open and a read per chunk while the download chases the upload).
      if (next >= have) {
        have = await this.#holds.arrival(record, end);
      }
      // (taken after the wait: a held request holds no buffer)
      const scratch = this.readBuffers.take();
      // The batch's buffer goes back once the batch ended and every chunk lent out of it was
      // written (each chunk's reply holds one count until the socket is done with it).
      let holds = 1;
      const letGo = () => {
        if (--holds === 0) this.readBuffers.put(scratch);
      };
      try {
        const chunks = await this.#read(record, next, Math.min(end, have), scratch);
        for (const sealed of chunks) {
          if (!session.open) return;
          // (a chunk goes out while the queue holds less than the budget with it, or nothing:
          // with big chunks too, this download's share of the queue stays near the budget)
          if (session.queuedBytes > 0 && session.queuedBytes + sealed.length > FILE_QUEUE_BUDGET)
            await session.whenDrained();
          if (!session.open) return;
          if (session.binaryChunks) {
            holds++;
            const header = encodeFileChunkHeader(record.id, next, sealed.length);
            session.replyBytes(header, sealed, letGo);
          } else
            session.reply(encodeFileChunk(record.id, next, sealed.toString('base64')), 'fchunk');
          this.stats.chunksOut++;
          this.stats.bytesOut += sealed.length;
          next++;
        }
      } finally {
        letGo();
      }
    }
  }

  async #read(
    record: FileRecord,
    from: number,
    to: number,
    scratch: Buffer | undefined,
  ): Promise<Buffer[]> {
    try {
      return await this.store.read(record, from, to, scratch);
    } catch (error) {
      if (error instanceof FileStoreError) throw error;
      // deleted underneath us (TTL, the uploader, the last recipient)
      throw new FileStoreError(ErrorCode.NO_SUCH_FILE, 'no such file (or it expired)');
    }
  }

  /** The sweep: expired files deleted. */
  sweep(): number {
    const expired = this.store.sweep(this.#clock.now());
    if (expired > 0) {
      this.stats.deleted.inc('expired', expired);
      this.#logger.info({ event: 'files.expired', files: expired });
    }
    return expired;
  }
}
