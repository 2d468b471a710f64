import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isValidName, isValidRoom, safeFileName } from '../../protocol/index.js';
import type { ClientEvent } from '../events.js';

/**
 * Files between the page and the client core. A page cannot hand the core a local path, so
 * it uploads the chosen file to the local host (`POST /upload?to=…&name=…`), which streams
 * it into a 0600 file in a fresh 0700 directory under `<home>/web/uploads/` and runs the
 * same `/send` as the terminal on it; the file is removed when that upload ends. A received
 * file is fetched back with `GET /download/<id>` — only files the core itself reported as
 * saved, always as an attachment. Both need the session cookie and the page key (header
 * {@link PAGE_KEY_HEADER}); the caller checked Host, Origin and Sec-Fetch-Site.
 */

/** The header the page puts its page key in (a cookie alone is not enough: see web-auth). */
export const PAGE_KEY_HEADER = 'x-securechat-key';
/** Default upload bound: the server's default `--max-file-size` (it enforces its own). */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

export interface WebFilesOptions {
  /** Where uploads are kept while they are sent (`<home>/web/uploads`). */
  dir: string;
  maxUploadBytes?: number;
  /** Starts sending `path` to `target` as `/send` does: true, or why not. */
  send(target: string, path: string): Promise<true | string>;
}

type Answer = (status: number, text: string, extra?: Record<string, string>) => true;

/** `filename*` (RFC 6266/8187) and an ASCII fallback, for a name already made safe. */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export class WebFiles {
  #o: WebFilesOptions;
  /** Uploads in flight: `peer\0name` → the directories holding them. */
  #uploads = new Map<string, string[]>();
  /** Files the core saved: short id → path (from its own `done` events, never the page). */
  #saved = new Map<string, { path: string; name: string }>();

  constructor(options: WebFilesOptions) {
    this.#o = options;
  }

  get maxUploadBytes(): number {
    return this.#o.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  }

  /** Watches the core's events: saved downloads become fetchable; finished uploads go. */
  observe(event: ClientEvent): void {
    if (event.kind === 'transfers')
      for (const t of event.transfers)
        if (t.direction === 'down' && t.state === 'done' && t.path)
          this.#saved.set(t.id, { path: t.path, name: safeFileName(t.name) });
    if (event.kind !== 'transfer') return;
    if (event.direction === 'down' && event.phase === 'done' && event.path)
      this.#saved.set(event.id, { path: event.path, name: safeFileName(event.name) });
    if (
      event.direction === 'up' &&
      (event.phase === 'done' || event.phase === 'failed' || event.phase === 'cancelled')
    ) {
      const k = `${event.peer}\0${event.name}`;
      const dir = this.#uploads.get(k)?.shift();
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (this.#uploads.get(k)?.length === 0) this.#uploads.delete(k);
    }
  }

  #forget(k: string, dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    const rest = (this.#uploads.get(k) ?? []).filter((d) => d !== dir);
    if (rest.length > 0) this.#uploads.set(k, rest);
    else this.#uploads.delete(k);
  }

  /** Removes every upload still kept (the host is closing). */
  close(): void {
    for (const dirs of this.#uploads.values())
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    this.#uploads.clear();
  }

  /** `POST /upload?to=TARGET&name=NAME`, body = the file's bytes. */
  upload(request: IncomingMessage, response: ServerResponse, url: URL, answer: Answer): true {
    if (request.method !== 'POST') return answer(405, 'method not allowed', { Allow: 'POST' });
    const target = url.searchParams.get('to') ?? '';
    if (!isValidName(target) && !isValidRoom(target))
      return answer(400, 'to= must be a user name or a #room');
    const name = safeFileName(url.searchParams.get('name') ?? '');
    const length = Number(request.headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0)
      return answer(411, 'a Content-Length is required');
    if (length > this.maxUploadBytes)
      return answer(413, `the file is larger than ${this.maxUploadBytes} bytes`, {
        Connection: 'close',
      });
    mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
    const dir = join(this.#o.dir, randomBytes(12).toString('hex'));
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, name);
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    let received = 0;
    let failed = false;
    const fail = (status: number, text: string) => {
      if (failed) return;
      failed = true;
      out.destroy();
      rmSync(dir, { recursive: true, force: true });
      request.unpipe(out);
      if (!response.headersSent) answer(status, text, { Connection: 'close' });
    };
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > length) fail(400, 'more bytes than Content-Length');
    });
    request.on('aborted', () => fail(400, 'upload aborted'));
    request.on('error', () => fail(400, 'upload failed'));
    out.on('error', () => fail(500, 'cannot store the upload'));
    out.on('finish', () => {
      if (failed) return;
      if (received !== length) return fail(400, 'fewer bytes than Content-Length');
      const k = `${target}\0${name}`;
      this.#uploads.set(k, [...(this.#uploads.get(k) ?? []), dir]);
      void this.#o.send(target, path).then(
        (outcome) => {
          if (outcome === true) return answer(202, 'sending');
          this.#forget(k, dir);
          return answer(409, outcome);
        },
        (error: Error) => {
          this.#forget(k, dir);
          return answer(500, error.message);
        },
      );
    });
    request.pipe(out);
    return true;
  }

  /** `GET /download/ID`: a file the core saved, as an attachment. */
  download(
    request: IncomingMessage,
    response: ServerResponse,
    id: string,
    headers: Record<string, string>,
    answer: Answer,
  ): true {
    if (request.method !== 'GET') return answer(405, 'method not allowed', { Allow: 'GET' });
    const saved = this.#saved.get(id);
    let size: number;
    try {
      if (!saved) throw new Error('unknown');
      size = statSync(saved.path).size;
    } catch {
      return answer(404, 'no such received file');
    }
    const file = saved as { path: string; name: string };
    response.writeHead(200, {
      ...headers,
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': contentDisposition(file.name),
      'Content-Length': String(size),
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
    });
    createReadStream(file.path)
      .on('error', () => response.destroy())
      .pipe(response);
    return true;
  }
}
