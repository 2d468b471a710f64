/**
 * Issue 15: who is connected, through the admin listener: GET /who lists name, address,
 * client and connected-since, only to loopback callers or with the admin token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatWho } from '../../src/cli/who-run.js';
import { adminAllowed } from '../../src/server/metrics.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('GET /who on the admin listener', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t.close();
  });

  it('lists connected users with address, client and connected-since', async () => {
    t = await startTestServer({ metrics: '127.0.0.1:0', lobby: undefined });
    const before = Date.now();
    const alice = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'alice' });
    clients.push(alice);
    const url = `http://127.0.0.1:${t.server.metricsAddress!.port}/who`;
    const body = (await (await fetch(url)).json()) as {
      users: Array<{ name: string; address: string; version: number; connectedSince: number }>;
    };
    expect(body.users).toHaveLength(1);
    expect(body.users[0]).toMatchObject({ name: 'alice', address: '127.0.0.1', version: 1 });
    expect(body.users[0]!.connectedSince).toBeGreaterThanOrEqual(before - 1000);
    const rows = formatWho(body.users as never);
    expect(rows[0]).toMatch(/^user\s+address\s+client\s+connected since$/);
    expect(rows[1]).toMatch(/^alice\s+127\.0\.0\.1\s+v1\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('answers only loopback callers, or the admin token', () => {
    expect(adminAllowed('127.0.0.1', undefined, undefined)).toBe(true);
    expect(adminAllowed('::1', undefined, undefined)).toBe(true);
    expect(adminAllowed('203.0.113.9', undefined, undefined)).toBe(false);
    expect(adminAllowed('203.0.113.9', 'Bearer s3cret', undefined)).toBe(false);
    expect(adminAllowed('203.0.113.9', 'Bearer wrong!', 's3cret')).toBe(false);
    expect(adminAllowed('203.0.113.9', 'Bearer s3cret', 's3cret')).toBe(true);
  });
});
