import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatController } from '../../src/client/ui/controller.js';
import { parseWebAddress } from '../../src/client/web/web-address.js';
import { WebHost } from '../../src/client/web/web-host.js';
import { WebServer } from '../../src/client/web/web-server.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { fakeAssets, get, openPage, signIn } from '../helpers/web-page.js';

const assetsDir = fakeAssets();

describe('the local web UI server: who may load the page and open the socket', () => {
  let host: WebHost;
  let url: string;
  let port: number;
  const lines: string[] = [];
  let signIns = 0;

  beforeEach(async () => {
    lines.length = 0;
    signIns = 0;
    host = new WebHost({
      self: 'alice',
      assetsDir,
      onSignIn: () => {
        signIns += 1;
      },
    });
    host.attach({
      handle: (line) => lines.push(line),
      safetyNumberWith: (user) =>
        user === 'bob' ? { ok: true, digits: '1'.repeat(60) } : { ok: false, reason: 'unknown' },
    });
    url = await host.listen();
    port = host.server.port;
  });
  afterEach(async () => {
    host.quit();
    await host.closed;
  });

  it('listens on loopback only and prints a link with a one-time token', () => {
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[A-Za-z0-9_-]{43}$`));
    expect(() => new WebServer({ host: '0.0.0.0', onSocket: () => {} })).toThrow(/loopback/);
    expect(parseWebAddress('0.0.0.0:8080')).toMatchObject({
      error: expect.stringMatching(/loopback/),
    });
    expect(parseWebAddress('192.168.1.2:80')).toHaveProperty('error');
    expect(parseWebAddress(true)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseWebAddress('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseWebAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseWebAddress('localhost:99999')).toHaveProperty('error');
  });

  it('the token gives an HttpOnly SameSite=Strict cookie once; a reused or wrong token is refused', async () => {
    expect((await get(port, '/')).status).toBe(403);
    expect((await get(port, '/app.js')).status).toBe(403);
    expect((await get(port, '/?token=wrong')).status).toBe(403);
    const token = new URL(url).searchParams.get('token');
    const first = await get(port, `/?token=${token}`);
    expect(first.status).toBe(303);
    // The page key rides in the fragment, which browsers never send to a server.
    expect(first.headers.location).toMatch(/^\/#key=[A-Za-z0-9_-]{43}$/);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(
      new RegExp(`^securechat_${port}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/$`),
    );
    expect(signIns).toBe(1); // the launcher file (if any) is removed now
    const again = await get(port, `/?token=${token}`);
    expect(again.status).toBe(403);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(signIns).toBe(1);
    const session = cookie.split(';')[0] as string;
    const page = await get(port, '/', { cookie: session });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const script = await get(port, '/app.js', { cookie: session });
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await get(port, '/', { cookie: `securechat_${port}=forged` })).status).toBe(403);
    expect((await get(port, '/nothing', { cookie: session })).status).toBe(404);
    expect((await get(port, '/', { cookie: session }, 'POST')).status).toBe(405);
  });

  it('every answer carries a strict CSP (own script only, no inline, no remote origin)', async () => {
    const session = (await signIn(url)).cookie;
    for (const path of ['/', '/app.js', '/nothing']) {
      const answer = await get(port, path, { cookie: session });
      const csp = String(answer.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${port}`);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
      expect(answer.headers['cache-control']).toBe('no-store');
    }
    expect(String((await get(port, '/')).headers['content-security-policy'])).toContain(
      "script-src 'self'",
    );
  });

  it('another Host (DNS rebinding), another Origin or a cross-site fetch is refused, even with the cookie', async () => {
    const session = (await signIn(url)).cookie;
    const refused: Array<Record<string, string>> = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${port + 1}` },
      { host: '127.0.0.1' },
      { origin: 'http://evil.example' },
      { origin: `http://127.0.0.1:${port + 1}` },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of refused)
      expect(
        (await get(port, '/', { cookie: session, ...headers })).status,
        JSON.stringify(headers),
      ).toBe(403);
    expect((await get(port, '/', { cookie: session, host: `localhost:${port}` })).status).toBe(200);
    expect(
      (await get(port, '/', { cookie: session, origin: `http://127.0.0.1:${port}` })).status,
    ).toBe(200);
  });

  it('the WebSocket needs the cookie, the page key, our Origin and our Host', async () => {
    const origin = `http://127.0.0.1:${port}`;
    await expect(openPage(port, { origin })).rejects.toThrow('refused 401');
    const { cookie, key } = await signIn(url);
    await expect(openPage(port, { cookie }, key)).rejects.toThrow('refused 403');
    await expect(openPage(port, { cookie, origin: 'http://evil.example' }, key)).rejects.toThrow(
      'refused 403',
    );
    await expect(
      openPage(port, { cookie, origin, host: `evil.example:${port}` }, key),
    ).rejects.toThrow('refused 403');
    await expect(
      openPage(port, { cookie: `securechat_${port}=forged`, origin }, key),
    ).rejects.toThrow('refused 401');
    // The cookie alone (what a program on another loopback port would get from the
    // browser) is not enough; nor is a wrong key.
    await expect(openPage(port, { cookie, origin })).rejects.toThrow('refused 401');
    await expect(openPage(port, { cookie, origin }, 'x'.repeat(43))).rejects.toThrow('refused 401');
    const page = await openPage(port, { cookie, origin }, key);
    expect(page.socket.protocol).toBe('securechat');
    await page.waitFor((m) => m.type === 'hello' && m.self === 'alice');
    await page.waitFor((m) => m.type === 'replay');
    page.socket.close();
  });

  it('page messages reach the core; events reach every page with a replay for late ones; junk closes the socket', async () => {
    const { cookie, key } = await signIn(url);
    const headers = { cookie, origin: `http://127.0.0.1:${port}` };
    const page = await openPage(port, headers, key);
    host.show({ kind: 'info', ts: 1, text: '<img src=x onerror=alert(1)>' });
    await page.waitFor((m) => m.type === 'event' && m.event.kind === 'info');
    page.send({ type: 'line', text: '/to bob hi\nthere' });
    page.send({ type: 'safety', user: 'bob' });
    const safety = await page.waitFor((m) => m.type === 'safety');
    expect(safety).toEqual({ type: 'safety', user: 'bob', digits: '1'.repeat(60) });
    expect(lines).toEqual(['/to bob hi\nthere']);
    const late = await openPage(port, headers, key);
    const replay = await late.waitFor((m) => m.type === 'replay');
    expect(replay).toMatchObject({
      events: [{ kind: 'info', text: '<img src=x onerror=alert(1)>' }],
    });
    page.send({ type: 'line', text: 42 });
    expect(await page.closed).toBe(1003);
    late.socket.send('{"type":"line","__proto__":{"text":"x"}}');
    expect(await late.closed).toBe(1003);
    expect(lines).toHaveLength(1);
  });
});

describe('the page drives the same client core as the terminal', () => {
  let t: TestServer;
  const chats: TestChat[] = [];
  beforeEach(async () => {
    t = await startTestServer({ lobby: undefined });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
    await t.close();
  });

  it('a line from the page is an E2EE message to bob; bob’s answer reaches the page', async () => {
    const alice = await startChat('alice', t.port, t.server.pin);
    const bob = await startChat('bob', t.port, t.server.pin);
    chats.push(alice, bob);
    const host = new WebHost({ self: 'alice', assetsDir });
    const controller = new ChatController(alice.client, host, undefined, { self: 'alice' });
    host.attach({
      handle: (line) => controller.handle(line),
      safetyNumberWith: (user) => alice.client.trust.safetyNumberWith(user),
    });
    const url = await host.listen();
    try {
      const { cookie, key } = await signIn(url);
      const port = host.server.port;
      const page = await openPage(port, { cookie, origin: `http://127.0.0.1:${port}` }, key);
      await alice.waitFor((e) => e.kind === 'presence' && e.user === 'bob');
      page.send({ type: 'line', text: '/to bob hello from the page\nsecond line' });
      const got = await bob.waitFor((e) => e.kind === 'message' && e.direction === 'in');
      expect(got).toMatchObject({ from: 'alice', text: 'hello from the page\nsecond line' });
      expect(got).toMatchObject({ protection: expect.stringMatching(/^e2ee-(v2|pq)$/) });
      await page.waitFor(
        (m) => m.type === 'event' && m.event.kind === 'delivery' && m.event.status === 'delivered',
      );
      bob.client.sendDirect('alice', 'hi page');
      const shown = await page.waitFor(
        (m) => m.type === 'event' && m.event.kind === 'message' && m.event.direction === 'in',
      );
      expect(shown).toMatchObject({ event: { from: 'bob', text: 'hi page' } });
      page.send({ type: 'safety', user: 'bob' });
      const safety = await page.waitFor((m) => m.type === 'safety');
      expect(safety).toMatchObject({ user: 'bob', digits: expect.stringMatching(/^\d{60}$/) });
      expect(t.logs.text).not.toContain('hello from the page');
      // /quit from the page ends the session, as it does at the terminal.
      page.send({ type: 'line', text: '/quit' });
      await page.waitFor((m) => m.type === 'bye');
      await host.closed;
    } finally {
      host.quit();
      await host.closed;
    }
  });
});
