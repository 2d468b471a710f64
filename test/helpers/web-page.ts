import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { CoreMessage } from '../../src/client/web/bridge-messages.js';

/** A directory with a stand-in page, so server tests need no bundle. */
export function fakeAssets(): string {
  const dir = mkdtempSync(join(tmpdir(), 'securechat-web-assets-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  return dir;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request to 127.0.0.1 (node:http, so Host and Origin can be anything). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Exchanges the token in `url` for the session: the cookie (`name=value`) and the page key. */
export async function signIn(url: string): Promise<{ cookie: string; key: string }> {
  const { port, pathname, search } = new URL(url);
  const answer = await get(Number(port), `${pathname}${search}`);
  if (answer.status !== 303) throw new Error(`sign-in answered ${answer.status}: ${answer.body}`);
  const cookie = String(answer.headers['set-cookie']).split(';')[0] as string;
  const key = /^\/#key=([A-Za-z0-9_-]{43})$/.exec(String(answer.headers.location))?.[1];
  if (!key) throw new Error(`no page key in ${answer.headers.location}`);
  return { cookie, key };
}

/** A page's WebSocket: collects what the core sends. */
export interface PageSocket {
  socket: WebSocket;
  received: CoreMessage[];
  waitFor(test: (m: CoreMessage) => boolean, timeoutMs?: number): Promise<CoreMessage>;
  send(message: unknown): void;
  closed: Promise<number>;
}

/**
 * Opens the WebSocket as a page would (subprotocols `securechat` and the page key, when
 * given); rejects with the HTTP status if refused.
 */
export function openPage(
  port: number,
  headers: Record<string, string>,
  key?: string,
): Promise<PageSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${port}/ws`,
      key === undefined ? [] : ['securechat', key],
      { headers },
    );
    const received: CoreMessage[] = [];
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.on('message', (data) => received.push(JSON.parse(String(data)) as CoreMessage));
    socket.on('unexpected-response', (_req, res) => {
      reject(new Error(`refused ${res.statusCode}`));
      socket.terminate();
    });
    socket.on('error', (error) => reject(error));
    socket.on('open', () =>
      resolve({
        socket,
        received,
        closed,
        send: (message) => socket.send(JSON.stringify(message)),
        async waitFor(test, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = received.find(test);
            if (found) return found;
            if (Date.now() > deadline)
              throw new Error(`timed out; page has ${JSON.stringify(received.slice(-6))}`);
            await new Promise((r) => setTimeout(r, 10));
          }
        },
      }),
    );
  });
}
