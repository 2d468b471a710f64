import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The admin listener's read-only HTML dashboard (GET /, its script and stylesheet), built
 * by `npm run build` into dist/web (from src/web/dashboard). The page reads /metrics with
 * its own script: no CDN, no inline code (the CSP forbids both).
 */

/** dist/web, the same path from src/server and from dist/server. */
const ASSETS_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Whether `path` is one of the dashboard's files. */
export function isDashboardPath(path: string): boolean {
  return Object.hasOwn(FILES, path);
}

const cache = new Map<string, Buffer>();

/** Answers a dashboard request (the caller has checked the admin rule). */
export function serveDashboard(
  request: IncomingMessage,
  response: ServerResponse,
  assetsDir = ASSETS_DIR,
): void {
  const entry = FILES[request.url ?? ''];
  const headers = {
    'Content-Security-Policy': DASHBOARD_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
  if (!entry) {
    response.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const path = `${assetsDir}${entry.file}`;
  let body = cache.get(path);
  if (!body) {
    try {
      body = readFileSync(path);
      cache.set(path, body);
    } catch {
      response
        .writeHead(503, { ...headers, 'content-type': 'text/plain' })
        .end('the dashboard is not built (npm run build); /metrics and /who work without it\n');
      return;
    }
  }
  response.writeHead(200, { ...headers, 'content-type': entry.type }).end(body);
}
