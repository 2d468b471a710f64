import {
  Capability,
  displayFileName,
  ErrorCode,
  FILE_BINARY_CHUNK_BYTES,
  FILE_CHUNK_BYTES,
  type FileAckFrame,
  type FileChunkFrame,
  type FileContent,
  type FileOkFrame,
  type FileStateFrame,
  formatBytes,
  nameKey,
} from '../../protocol/index.js';
import { systemTimers, type Timers } from '../clock.js';
import type { EventSink, TransferEvent, TransferListEvent } from '../events.js';
import { ControlResend, isControlFrame } from './control-resend.js';
import { Downloads } from './downloads.js';
import type { TransferHost } from './transfer-host.js';
import {
  type DownloadRecord,
  FINISHED,
  shortId,
  type TransferRecord,
  type UploadRecord,
} from './transfer-record.js';
import type { TransferPersistence } from './transfer-store.js';
import { Uploads } from './uploads.js';

/** Progress events per transfer at most this often. */
const PROGRESS_EVERY_MS = 1000;

export interface TransferOptions {
  persistence: TransferPersistence;
  downloadDir: string;
  /** Senders whose offers are accepted without asking, up to a size in bytes each. */
  autoAccept?: ReadonlyMap<string, number>;
  link: {
    send(frame: object | string | Uint8Array | readonly Uint8Array[]): boolean;
    readonly ready: boolean;
    offers(cap: string): boolean;
    /** The server's `--max-file-size`, when its welcome said. */
    readonly maxFile?: number | undefined;
    /** The largest chunk size the server takes in binary mode, when its welcome said. */
    readonly maxChunk?: number | undefined;
  };
  /** Sends a descriptor end to end (ratchet to a user, sender key to a room). */
  sendOffer(target: string, content: FileContent): Promise<true | string>;
  sink: EventSink;
  now: () => number;
  /** The client's timers (the download watchdog); Node's by default. */
  timers?: Timers;
}

/** How long a finished (done, failed, cancelled, rejected) transfer stays listed: 7 days. */
export const FINISHED_KEEP_MS = 7 * 24 * 3600 * 1000;

/**
 * The client's file transfers: the uploads and downloads, their persistence, the commands'
 * entry points (/send, /accept, /reject, /cancel, /transfers), the server's file frames,
 * and the events the UI shows (offers, throttled progress with rate and time left, results).
 */
export class TransferManager {
  #o: TransferOptions;
  #records = new Map<string, TransferRecord>();
  #uploads: Uploads;
  #downloads: Downloads;
  #lastProgress = new Map<string, number>();
  #runStart = new Map<string, { at: number; bytes: number }>();
  #control: ControlResend;

  constructor(options: TransferOptions) {
    this.#o = options;
    // Finished transfers are kept a while for /transfers, then pruned (the state database
    // would otherwise grow by one row per file for good).
    const horizon = options.now() - FINISHED_KEEP_MS;
    for (const record of options.persistence.load()) {
      if (FINISHED.has(record.state) && record.created < horizon)
        options.persistence.remove(record.id);
      else this.#records.set(record.id, record);
    }
    const host: TransferHost = {
      now: options.now,
      ready: () => this.ready,
      binaryChunks: () => options.link.offers(Capability.fbin),
      chunkBytes: () =>
        options.link.offers(Capability.fbin) && options.link.maxChunk !== undefined
          ? Math.min(FILE_BINARY_CHUNK_BYTES, options.link.maxChunk)
          : FILE_CHUNK_BYTES,
      offerEarly: () => options.link.offers(Capability.fhold),
      send: (frame) => this.#send(frame),
      save: (record) => {
        this.#records.set(record.id, record);
        options.persistence.save(record);
      },
      replace: (old, fresh) => {
        this.#records.delete(old.id);
        options.persistence.remove(old.id);
        this.#records.set(fresh.id, fresh);
        options.persistence.save(fresh);
      },
      sendOffer: options.sendOffer,
      progress: (record, phase, bytes, extra) => this.#progress(record, phase, bytes, extra),
    };
    this.#control = new ControlResend(
      (frame) => options.link.send(frame),
      options.timers ?? systemTimers,
      options.now,
    );
    this.#uploads = new Uploads(host);
    this.#downloads = new Downloads(host, options.downloadDir, options.timers);
  }

  /** Welcomed by a server that keeps files. */
  get ready(): boolean {
    return this.#o.link.ready && this.#o.link.offers(Capability.files);
  }

  get downloadDir(): string {
    return this.#downloads.dir;
  }

  /** `/send`: true, or why not. */
  async send(target: string, path: string): Promise<true | string> {
    if (!this.ready)
      return this.#o.link.ready
        ? 'this server does not keep files (no "files" capability)'
        : 'not connected';
    const outcome = await this.#uploads.send(target, path, this.#o.link.maxFile);
    return typeof outcome === 'string' ? outcome : true;
  }

  /** A descriptor arrived end to end from `from` (in `room`, for a room file). */
  offered(from: string, content: FileContent, room?: string): void {
    if (this.#records.has(content.tid)) return; // a duplicate (or our own)
    const record: DownloadRecord = {
      dir: 'down',
      id: content.tid,
      from,
      ...(room ? { room } : {}),
      offer: content,
      state: 'offered',
      created: this.#o.now(),
    };
    this.#records.set(record.id, record);
    this.#o.persistence.save(record);
    this.#progress(record, 'offer', 0);
    const limit = this.#o.autoAccept?.get(nameKey(from));
    if (limit !== undefined && content.size <= limit) void this.#downloads.start(record);
  }

  /** Finds a transfer by the id the user typed (a prefix), or the latest in `states`. */
  find(id: string | undefined, states: readonly string[]): TransferRecord | string {
    const candidates = [...this.#records.values()].filter((r) => states.includes(r.state));
    if (id === undefined) {
      const latest = candidates.at(-1);
      return latest ?? 'no transfer to act on (see /transfers)';
    }
    const matches = candidates.filter((r) => r.id.startsWith(id.toLowerCase()));
    if (matches.length === 1) return matches[0]!;
    return matches.length === 0 ? `no transfer ${id} here (see /transfers)` : `${id} is ambiguous`;
  }

  /** `/accept [id]`. */
  async accept(id?: string): Promise<true | string> {
    const record = this.find(id, ['offered']);
    if (typeof record === 'string') return record;
    if (!this.ready) return 'not connected to a server that keeps files';
    await this.#downloads.start(record as DownloadRecord);
    return true;
  }

  /** `/reject [id]`: the offer is dropped (and the server told we will not fetch it). */
  reject(id?: string): true | string {
    const record = this.find(id, ['offered']);
    if (typeof record === 'string') return record;
    const down = record as DownloadRecord;
    down.state = 'rejected';
    this.#o.persistence.save(down);
    if (this.ready) this.#send({ type: 'fdone', file: down.offer.file, cap: down.offer.cap });
    this.#progress(down, 'rejected', 0);
    return true;
  }

  /** `/cancel [id]`: stops an upload (withdrawing the file) or a download (deleting it). */
  async cancel(id?: string): Promise<true | string> {
    const record = this.find(id, ['announcing', 'uploading', 'offering', 'downloading', 'offered']);
    if (typeof record === 'string') return record;
    if (record.dir === 'up') this.#uploads.cancel(record);
    else await this.#downloads.cancel(record);
    return true;
  }

  /** `/transfers`: one event listing them all. */
  list(): void {
    const transfers: TransferListEvent['transfers'] = [...this.#records.values()].map((r) => {
      const { kind: _k, ts: _t, phase: _p, ...rest } = this.#eventOf(r, 'progress', 0);
      return { ...rest, state: r.state, ...(r.reason ? { reason: r.reason } : {}) };
    });
    this.#o.sink.event({ kind: 'transfers', transfers });
  }

  /** Sends a frame of ours, keeping control lines to send again if the server drops them. */
  #send(frame: object | string | Uint8Array | readonly Uint8Array[]): boolean {
    const sent = this.#o.link.send(frame);
    if (sent && isControlFrame(frame)) this.#control.sent(frame);
    return sent;
  }

  // --- server frames -----------------------------------------------------------------

  ok(frame: FileOkFrame): void {
    this.#control.answered(frame.id);
    const record = this.#uploadWith((r) => Uploads.announceId(r) === frame.id);
    if (record?.state === 'announcing') this.#uploads.announced(record, frame.file, frame.cap);
  }

  ack(frame: FileAckFrame): void {
    const record = this.#uploadWith((r) => r.file === frame.file);
    if (record?.state === 'uploading') this.#uploads.acked(record, frame.have);
  }

  state(frame: FileStateFrame): void {
    this.#control.answered(frame.file);
    const record = this.#uploadWith((r) => r.file === frame.file);
    if (record?.state === 'uploading') this.#uploads.resumeFrom(record, frame.have);
  }

  chunk(frame: FileChunkFrame): void {
    const record = this.#downloads.byFile(frame.file);
    if (record) this.#downloads.chunk(record, frame.i, frame.sealed);
  }

  /** An error whose `ref` names one of our transfers; false when it is not ours. */
  refused(ref: string, code: string | undefined, text: string): boolean {
    if (code === ErrorCode.RATE_LIMITED) {
      // A control line of ours dropped under the server's chat rate limit goes again later;
      // a refusal naming a transfer of ours whose line is no longer kept fails nothing.
      const verdict = this.#control.refused(ref);
      const upload = this.#uploadWith((r) => r.file === ref || Uploads.announceId(r) === ref);
      if (verdict === undefined && !upload && !this.#downloads.byFile(ref)) return false;
      if (
        verdict === 'gave-up' &&
        (upload?.state === 'uploading' || upload?.state === 'announcing')
      )
        this.#uploads.fail(
          upload,
          "the server kept dropping this upload's requests (rate limited): /reconnect to try again",
          code,
        );
      return true;
    }
    const upload = this.#uploadWith((r) => r.file === ref || Uploads.announceId(r) === ref);
    if (upload && !FINISHED.has(upload.state)) {
      this.#uploads.fail(upload, text || 'refused by the server', code);
      return true;
    }
    const download = this.#downloads.byFile(ref);
    if (download) {
      this.#downloads.refused(download, code ?? 'E_REFUSED', text);
      return true;
    }
    return false;
  }

  #uploadWith(test: (r: UploadRecord) => boolean): UploadRecord | undefined {
    for (const r of this.#records.values()) if (r.dir === 'up' && test(r)) return r;
    return undefined;
  }

  /** Welcomed (again): unfinished transfers go on. */
  welcomed(): void {
    if (!this.ready) return;
    const records = [...this.#records.values()];
    void this.#uploads.resumeAll(records.filter((r): r is UploadRecord => r.dir === 'up'));
    for (const r of records)
      if (r.dir === 'down' && r.state === 'downloading') void this.#downloads.start(r);
  }

  /** The connection went down. */
  disconnected(): void {
    this.#control.clear();
    this.#uploads.disconnected();
    void this.#downloads.disconnected();
    this.#runStart.clear();
  }

  // --- events --------------------------------------------------------------------------

  #eventOf(record: TransferRecord, phase: TransferEvent['phase'], bytes: number): TransferEvent {
    const up = record.dir === 'up';
    const name = up ? record.name : record.offer.name;
    return {
      kind: 'transfer',
      ts: this.#o.now(),
      phase,
      id: shortId(record.id),
      direction: record.dir,
      peer: up ? record.target : record.from,
      ...(record.dir === 'down' && record.room ? { room: record.room } : {}),
      name,
      mime: up ? record.mime : record.offer.mime,
      size: up ? record.size : record.offer.size,
      bytes,
      ...(record.dir === 'down' && record.saved ? { path: record.saved } : {}),
    };
  }

  #progress(
    record: TransferRecord,
    phase: TransferEvent['phase'],
    bytes: number,
    extra: { reason?: string; code?: string; path?: string } = {},
  ): void {
    const now = this.#o.now();
    if (phase === 'started' || !this.#runStart.has(record.id))
      this.#runStart.set(record.id, { at: now, bytes });
    if (phase === 'progress') {
      const last = this.#lastProgress.get(record.id);
      if (last !== undefined && now - last < PROGRESS_EVERY_MS) return;
      this.#lastProgress.set(record.id, now);
    }
    const event = this.#eventOf(record, phase, bytes);
    const run = this.#runStart.get(record.id)!;
    const seconds = (now - run.at) / 1000;
    if (seconds > 0 && bytes > run.bytes) {
      event.rate = Math.round((bytes - run.bytes) / seconds);
      if (phase === 'progress') event.etaSeconds = Math.ceil((event.size - bytes) / event.rate);
    }
    if (phase !== 'progress' && phase !== 'started') {
      this.#lastProgress.delete(record.id);
      this.#runStart.delete(record.id);
    }
    const { sink } = this.#o;
    const { kind, ts: _ts, ...body } = { ...event, ...extra };
    sink.event({ kind, ...body });
  }

  /** The text of an offer as the terminal shows it (for notices outside the renderer). */
  static offerText(from: string, content: FileContent): string {
    return `${from} offers ${displayFileName(content.name)}, ${formatBytes(content.size)}`;
  }
}
