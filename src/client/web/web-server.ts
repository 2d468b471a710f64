import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { MAX_PAGE_MESSAGE_BYTES } from './bridge-messages.js';
import {
  allowedHosts,
  allowedOrigins,
  PAGE_PROTOCOL,
  sessionCookieName,
  WebAuth,
} from './web-auth.js';
import { PAGE_KEY_HEADER, type WebFiles } from './web-files.js';

/**
 * The built page (scripts/build-web.mjs writes it): the same path from src/client/web and
 * from dist/client/web, since both sit three levels below the package root.
 */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
} as const;
type AssetPath = keyof typeof ASSETS;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether `host` is a loopback address the web UI may bind. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host);
}

export interface WebServerOptions {
  /** Loopback only: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  assetsDir?: string;
  /** A page opened its WebSocket (already authenticated). */
  onSocket(socket: WebSocket): void;
  /** The one-time token was spent (a browser signed in). */
  onSignIn?(): void;
  /** File upload (`POST /upload`) and download (`GET /download/ID`), if any. */
  files?: WebFiles;
}

/** The headers every answer carries: no script but ours, no framing, no referrer, no cache. */
export function securityHeaders(host: string): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self'",
      `connect-src 'self' ws://${host}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/**
 * The local web UI's HTTP and WebSocket server. It answers only requests whose Host is a
 * loopback spelling of its own port (DNS rebinding), whose Origin (if any) is its own, and
 * that carry the session cookie, which only the one-time token in the printed URL gives.
 */
export class WebServer {
  readonly auth = new WebAuth();
  #options: WebServerOptions;
  #http: Server;
  #wss: WebSocketServer;
  #assets = new Map<AssetPath, Buffer>();
  #port = 0;

  constructor(options: WebServerOptions) {
    const host = options.host ?? '127.0.0.1';
    if (!isLoopbackHost(host))
      throw new Error(`the web UI listens on loopback only (127.0.0.1, ::1), not ${host}`);
    this.#options = { ...options, host };
    this.#http = createServer((request, response) => this.#serve(request, response));
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_PAGE_MESSAGE_BYTES,
      // The page key was checked before the upgrade; the answer names only the protocol.
      handleProtocols: () => PAGE_PROTOCOL,
    });
    this.#http.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head));
    this.#http.headersTimeout = 10_000;
    // Long enough for a large upload on loopback; slow headers are cut at 10 s.
    this.#http.requestTimeout = 300_000;
  }

  /** Listens; resolves with the URL to open (it holds the one-time token). */
  listen(): Promise<string> {
    const dir = this.#options.assetsDir ?? DEFAULT_ASSETS_DIR;
    for (const [path, asset] of Object.entries(ASSETS) as Array<[AssetPath, { file: string }]>) {
      try {
        this.#assets.set(path, readFileSync(`${dir}/${asset.file}`));
      } catch {
        return Promise.reject(
          new Error(`the page is not built (${dir}${asset.file} missing): run npm run build`),
        );
      }
    }
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#options.port ?? 0, this.#options.host, () => {
        this.#port = (this.#http.address() as AddressInfo).port;
        resolve(this.url());
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  /** The URL with the unused token (undefined once it was used). */
  url(): string {
    const host = this.#options.host === '::1' ? '[::1]' : '127.0.0.1';
    const token = this.auth.token;
    return `http://${host}:${this.#port}/${token ? `?token=${token}` : ''}`;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  /** Why a request is refused before anything else is looked at, or undefined. */
  #refusal(request: IncomingMessage): string | undefined {
    const host = request.headers.host;
    if (host === undefined || !allowedHosts(this.#port).has(host)) return 'unexpected Host';
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins(this.#port).has(origin)) return 'unexpected Origin';
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return 'cross-site request';
    return undefined;
  }

  /** Answers one request (returns true: each branch ends in an answer). */
  #serve(request: IncomingMessage, response: ServerResponse): true {
    const refusal = this.#refusal(request);
    const host = refusal ? `127.0.0.1:${this.#port}` : (request.headers.host as string);
    const headers = securityHeaders(host);
    const answer = (status: number, text: string, extra: Record<string, string> = {}) => {
      response.writeHead(status, {
        ...headers,
        'Content-Type': 'text/plain; charset=utf-8',
        ...extra,
      });
      response.end(request.method === 'HEAD' ? undefined : `${text}\n`);
      return true as const;
    };
    if (refusal) return answer(403, `refused: ${refusal}`);
    const files = this.#files(request, response, headers, answer);
    if (files) return files;
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return answer(405, 'method not allowed', { Allow: 'GET, HEAD' });
    const url = new URL(request.url ?? '/', `http://${host}`);
    const cookieName = sessionCookieName(this.#port);
    const token = url.searchParams.get('token');
    if (url.pathname === '/' && token !== null) {
      const session = this.auth.exchange(token);
      if (session === undefined)
        return answer(
          403,
          'this link is not valid (each link works once): use the page already open, or restart securechat --web for a new link',
        );
      this.#options.onSignIn?.();
      // The token leaves the address bar at once; the cookie and the page key (in the
      // fragment, which the page moves to its storage and removes) carry on.
      return answer(303, 'signed in', {
        Location: `/#key=${session.pageKey}`,
        'Set-Cookie': `${cookieName}=${session.cookie}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (!this.auth.admits(request.headers.cookie, cookieName))
      return answer(
        403,
        'not signed in: open the link securechat printed (it holds a one-time token)',
      );
    const asset = ASSETS[url.pathname as AssetPath] as (typeof ASSETS)[AssetPath] | undefined;
    const body = asset ? this.#assets.get(url.pathname as AssetPath) : undefined;
    if (!asset || !body) return answer(404, 'not found');
    response.writeHead(200, { ...headers, 'Content-Type': asset.type });
    response.end(request.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** File routes: the cookie and the page key, and a page Origin for an upload. */
  #files(
    request: IncomingMessage,
    response: ServerResponse,
    headers: Record<string, string>,
    answer: (status: number, text: string, extra?: Record<string, string>) => true,
  ): true | undefined {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const download = /^\/download\/([0-9a-f]{1,32})$/.exec(url.pathname);
    if (url.pathname !== '/upload' && !download) return undefined;
    const files = this.#options.files;
    if (!files) return answer(404, 'not found');
    const close = { Connection: 'close' };
    if (url.pathname === '/upload' && request.headers.origin === undefined)
      return answer(403, 'refused: an upload needs the page Origin', close);
    const key = request.headers[PAGE_KEY_HEADER];
    if (!this.auth.admitsKey(request.headers.cookie, sessionCookieName(this.#port), key))
      return answer(403, 'not signed in (cookie and page key required)', close);
    if (download) return files.download(request, response, download[1] as string, headers, answer);
    return files.upload(request, response, url, answer);
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): true {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return true as const;
    };
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/ws') return refuse('404 Not Found');
    // A browser always sends Origin on a WebSocket: none means not a page of ours.
    if (request.headers.origin === undefined || this.#refusal(request) !== undefined)
      return refuse('403 Forbidden');
    const name = sessionCookieName(this.#port);
    if (
      !this.auth.admitsSocket(
        request.headers.cookie,
        name,
        request.headers['sec-websocket-protocol'],
      )
    )
      return refuse('401 Unauthorized');
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#options.onSocket(ws));
    return true;
  }
}
