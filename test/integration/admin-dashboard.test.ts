/**
 * Issue 18: the admin listener serves a read-only HTML dashboard at / (its own script and
 * stylesheet, strict CSP), under the same rule as /who: loopback callers, or the admin token.
 */
import { request } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../../src/server/metrics.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Answer {
  status: number;
  type: string;
  csp: string;
  body: string;
}

/** GET from a chosen loopback source address (127.0.0.2 is loopback, but not the admin's). */
function get(port: number, path: string, from: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          csp: String(res.headers['content-security-policy']),
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin dashboard', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a loopback caller gets the page, its script and stylesheet, with a strict CSP', async () => {
    t = await startTestServer({ metrics: '127.0.0.1:0', lobby: undefined });
    const port = t.server.metricsAddress!.port;
    const page = await get(port, '/', '127.0.0.1');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('<script type="module" src="/dashboard.js"></script>');
    expect(page.body).not.toMatch(/https?:\/\//);
    expect(page.csp).toContain("script-src 'self'");
    expect(page.csp).toContain("connect-src 'self'");
    expect(page.csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const script = await get(port, '/dashboard.js', '127.0.0.1');
    expect(script.status).toBe(200);
    expect(script.type).toMatch(/^text\/javascript/);
    expect(script.body).toContain('/metrics');
    expect((await get(port, '/dashboard.css', '127.0.0.1')).status).toBe(200);
    // /metrics is unchanged (open, Prometheus text).
    const metrics = await get(port, '/metrics', '127.0.0.2');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('securechat_connections_current');
  });

  it('another caller needs the admin token', async () => {
    const server = await startMetricsServer(new Registry(), '127.0.0.1', 0, { token: 's3cret' });
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      for (const path of ['/', '/dashboard.js', '/dashboard.css']) {
        expect((await get(port, path, '127.0.0.2')).status, path).toBe(403);
        expect(
          (await get(port, path, '127.0.0.2', { authorization: 'Bearer wrong!' })).status,
        ).toBe(403);
        expect(
          (await get(port, path, '127.0.0.2', { authorization: 'Bearer s3cret' })).status,
        ).toBe(200);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
