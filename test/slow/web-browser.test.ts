import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  type JsonClient,
  REPO_ROOT,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  spawnServeWith,
} from '../helpers/cli.js';
import { spawnWebClient, type WebClient } from '../helpers/web-client.js';
import { openPage } from '../helpers/web-page.js';

/**
 * The GUI in a real browser (Debian's chromium, driven by playwright-core): a GUI user and a
 * terminal `--json` user, over a real server. Screenshots go to test-artifacts/web/ (ignored
 * by git) for reviewers.
 */
const SHOTS = `${REPO_ROOT}test-artifacts/web`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const HOSTILE = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
  'abc\u202Egnp.exe\u202C \u0007\u001b[31mred\u001b]52;c;aGk=\u0007',
];

describe('the web UI in Chromium', () => {
  let server: ServeProcess;
  let alice: WebClient;
  let bob: JsonClient;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });
  const composer = () => page.getByTestId('composer');
  const say = async (text: string) => {
    await composer().fill(text);
    await composer().press('Enter');
  };
  const lines = () => page.getByTestId('lines');

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await spawnServe(['--metrics', '127.0.0.1:0']);
    alice = await spawnWebClient('alice', server.port, ['--pin', server.pin]);
    bob = spawnJsonClient('bob', server.port, ['--pin', server.pin]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A name that resolves to loopback, as a DNS-rebinding attacker's would.
      args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1'],
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    // Desktop notifications allowed, and recorded (title, body) for the test to read.
    await context.grantPermissions(['notifications'], { origin: new URL(alice.url).origin });
    await context.addInitScript(`
      window.__notes = [];
      const Native = window.Notification;
      window.Notification = class extends Native {
        constructor(title, options) { super(title, options); window.__notes.push([title, options && options.body]); }
      };
    `);
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // The refusals this test provokes are logged as failed loads; anything else counts.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await alice?.stop();
    await bob?.end();
    await server?.stop();
  });

  it('without the token the page is refused; the token signs in once, then the link is dead', async () => {
    const base = new URL(alice.url);
    const bare = await page.goto(`${base.origin}/`);
    expect(bare?.status()).toBe(403);
    const signedIn = await page.goto(alice.url);
    expect(signedIn?.status()).toBe(200);
    await expect.poll(() => page.url()).toBe(`${base.origin}/`); // token and page key left the address bar
    await expect.poll(() => page.getByTestId('connection').textContent()).toMatch(/^connected/);
    // Another browser profile (no cookie) with the same link: refused.
    const other = await browser.newContext();
    const reused = await (await other.newPage()).goto(alice.url);
    expect(reused?.status()).toBe(403);
    await other.close();
    await shot('01-signed-in');
  });

  it('a DNS-rebinding host name and a page of another origin are refused', async () => {
    const port = new URL(alice.url).port;
    const probe = await context.newPage();
    const rebound = await probe.goto(`http://rebind.test:${port}/`);
    expect(rebound?.status()).toBe(403);
    // A hostile page on another loopback port: the browser sends our cookie there too
    // (cookies ignore ports), so only the Origin check stops its WebSocket.
    let leaked: string | undefined;
    const hostile: Server = createServer((req, res) => {
      leaked ??= req.headers.cookie;
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>other</title>');
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', () => resolve()));
    try {
      await probe.goto(`http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`);
      const outcome = await probe.evaluate(
        (target) =>
          new Promise<string>((resolve) => {
            const socket = new WebSocket(`ws://127.0.0.1:${target}/ws`);
            socket.onopen = () => resolve('open');
            socket.onclose = () => resolve('closed');
          }),
        port,
      );
      expect(outcome).toBe('closed');
      // That program now holds our cookie, and need not send a browser's Origin; it still
      // lacks the page key, which only our origin's storage holds.
      expect(leaked).toContain(`securechat_${port}=`);
      await expect(
        openPage(Number(port), { cookie: String(leaked), origin: `http://127.0.0.1:${port}` }),
      ).rejects.toThrow('refused 401');
    } finally {
      hostile.close();
      await probe.close();
    }
  });

  it('the GUI user and a terminal user chat both ways, with protection and delivery marks', async () => {
    await page.getByTestId('open-input').fill('bob');
    await page.getByTestId('open-input').press('Enter');
    await bob.waitFor((e) => e.kind === 'presence' || e.kind === 'users', 20_000);
    await say('hello bob from the browser\nsecond line');
    const got = await bob.waitFor(
      (e) => e.kind === 'message' && e.direction === 'in' && e.from === 'alice',
      20_000,
    );
    expect(got.text).toBe('hello bob from the browser\nsecond line');
    await expect
      .poll(() => lines().getByTestId('delivery').last().textContent(), { timeout: 15_000 })
      .toBe('✓✓');
    bob.send('/to alice hi alice, from the terminal');
    await expect
      .poll(() => lines().textContent(), { timeout: 15_000 })
      .toContain('hi alice, from the terminal');
    expect(await lines().getByTestId('protection').last().textContent()).toMatch(/^E2EE/);
    await shot('02-direct-chat');
  });

  it('the admin dashboard draws the server metrics with its own script under a strict CSP', async () => {
    const line = server.stderr.find((l) => /^metrics\s+http:/.test(l)) ?? '';
    const metricsUrl = new URL(line.replace(/^metrics\s+/, '').trim());
    const dashboard = await context.newPage();
    const errors: string[] = [];
    dashboard.on('pageerror', (error) => errors.push(error.message));
    dashboard.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const answer = await dashboard.goto(`${metricsUrl.origin}/`);
    expect(answer?.status()).toBe(200);
    await expect
      .poll(() => dashboard.getByTestId('dash-connections').textContent(), { timeout: 15_000 })
      .toBe('2');
    await expect.poll(() => dashboard.locator('svg.chart').count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => dashboard.locator('svg.bars').count()).toBeGreaterThanOrEqual(1);
    await dashboard.screenshot({ path: `${SHOTS}/00-admin-dashboard.png` });
    expect(errors).toEqual([]);
    await dashboard.close();
  });

  it('hostile peer text is shown as text and runs nothing', async () => {
    for (const text of HOSTILE) bob.send(`/to alice ${text}`);
    await expect.poll(() => lines().textContent(), { timeout: 15_000 }).toContain('red');
    const shown = (await lines().textContent()) ?? '';
    expect(shown).toContain('<img src=x onerror="window.__pwned=1">');
    expect(shown).toContain('<script>window.__pwned=2</script>');
    expect(shown).toContain('⟨U+202E⟩');
    expect(shown).toContain('⟨U+001B⟩');
    expect(shown).not.toContain('\u202E');
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('.lines img, .lines script').count()).toBe(0);
    await shot('03-hostile-text');
  });

  it('rooms: join with a password, members, topic, op, kick, ban; unread counts elsewhere', async () => {
    await page.getByTestId('join-room').fill('#den');
    await page.getByTestId('join-password').fill('sesame1');
    await page.getByTestId('join').click();
    await expect
      .poll(() => lines().textContent(), { timeout: 15_000 })
      .toContain('you joined #den');
    expect(await page.getByTestId('title').textContent()).toBe('#den');
    bob.send('/join #den wrong-password');
    await bob.waitFor((e) => e.kind === 'error', 15_000);
    bob.send('/join #den sesame1');
    await bob.waitFor(
      (e) => e.kind === 'room' && e.event === 'joined' && e.room === '#den',
      15_000,
    );
    await expect.poll(() => page.getByTestId('member').count(), { timeout: 15_000 }).toBe(2);
    bob.send('/to #den hello room');
    await expect.poll(() => lines().textContent(), { timeout: 15_000 }).toContain('hello room');
    await say('hi den');
    await bob.waitFor(
      (e) => e.kind === 'message' && e.to === '#den' && e.text === 'hi den' && e.direction === 'in',
      15_000,
    );
    page.once('dialog', (dialog) => void dialog.accept('plans <b>friday</b>'));
    await page.getByTestId('set-topic').click();
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'topic', 15_000);
    await expect.poll(() => page.getByTestId('topic').textContent()).toBe('plans <b>friday</b>');
    // A direct message while the room is open counts as unread for bob's conversation.
    bob.send('/to alice psst');
    await expect
      .poll(() => page.getByTestId('conv-bob').getByTestId('unread').textContent())
      .toBe('1');
    await expect
      .poll(() => page.evaluate<string[][]>('window.__notes'))
      .toContainEqual(['bob', 'psst']);
    await shot('04-room');
    await page.getByTestId('member').filter({ hasText: 'bob' }).getByTestId('op').click();
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'op' && e.user === 'bob', 15_000);
    await page.getByTestId('member').filter({ hasText: 'bob' }).getByTestId('kick').click();
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'kick' && e.user === 'bob', 15_000);
    bob.send('/join #den sesame1');
    await expect.poll(() => page.getByTestId('member').count(), { timeout: 15_000 }).toBe(2);
    await page.getByTestId('member').filter({ hasText: 'bob' }).getByTestId('ban').click();
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'ban' && e.user === 'bob', 15_000);
    await expect.poll(() => lines().textContent()).toContain('bob was banned');
    // Keyboard: Alt+1 is the first conversation (status), Alt+Down the next.
    await page.keyboard.press('Alt+1');
    expect(await page.getByTestId('title').textContent()).toBe('status and server');
    await page.getByTestId('conv-bob').click();
    expect(await page.getByTestId('conv-bob').getByTestId('unread').count()).toBe(0);
  });

  it('verification: 60 digits and a QR code; a wrong number is refused, the right one verifies', async () => {
    await page.getByTestId('verify-open').click();
    const number = page.getByTestId('safety-number');
    await expect.poll(() => number.textContent(), { timeout: 10_000 }).toMatch(/^\d{60}$/);
    const digits = (await number.textContent()) ?? '';
    expect(await page.getByTestId('qr').count()).toBe(1);
    bob.send('/verify alice');
    const told = await bob.waitFor(
      (e) => e.kind === 'info' && /safety number with alice/.test(String(e.text)),
      15_000,
    );
    expect(String(told.text).replace(/\D/g, '').slice(-60)).toBe(digits);
    await shot('05-verify');
    await page.getByTestId('verify-input').fill('0'.repeat(60));
    await page.getByTestId('verify-submit').click();
    await expect
      .poll(() => page.getByTestId('verify-answer').textContent())
      .toContain('does NOT match');
    await page.getByTestId('verify-input').fill(digits.replace(/(\d{5})/g, '$1 '));
    await page.getByTestId('verify-submit').click();
    await expect
      .poll(() => page.getByTestId('verify-answer').textContent())
      .toContain('bob is now verified');
    await page.getByTestId('verify-close').click();
    await expect.poll(() => page.getByTestId('members').textContent()).toContain('verified');
  });

  it('the page keeps working across a server restart; a changed key blocks sending until /trust', async () => {
    const { port, certPath, keyPath } = server;
    // bob goes first, or his client would reclaim the name with his old key on the new server.
    bob.kill();
    await bob.end();
    await server.stop();
    await expect
      .poll(() => page.getByTestId('connection').textContent(), { timeout: 15_000 })
      .not.toMatch(/^connected/);
    await expect.poll(() => page.getByTestId('reconnect').count(), { timeout: 15_000 }).toBe(1);
    await shot('06-reconnecting');
    server = await spawnServeWith(
      [
        CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--cert',
        certPath,
        '--key',
        keyPath,
        '--data',
        ':memory:',
      ],
      certPath,
      {},
      keyPath,
    );
    await expect
      .poll(() => page.getByTestId('connection').textContent(), { timeout: 60_000, interval: 500 })
      .toMatch(/^connected/);
    expect(await page.getByTestId('reconnect').count()).toBe(0);
    // bob comes back with a new identity key (the restarted server forgot the old one).
    bob = spawnJsonClient('bob', port, ['--pin', server.pin]);
    await bob.waitFor((e) => e.kind === 'users', 20_000);
    await expect.poll(() => page.getByTestId('trust-banner').count(), { timeout: 20_000 }).toBe(1);
    expect(await composer().isDisabled()).toBe(true);
    await shot('07-key-changed');
    await page.getByTestId('trust-accept').click();
    await expect.poll(() => composer().isDisabled()).toBe(false);
    await say('welcome back, new key');
    await bob.waitFor((e) => e.kind === 'message' && e.text === 'welcome back, new key', 20_000);
  });

  it('works at 360 px and in the dark theme', async () => {
    await page.getByTestId('theme').selectOption('dark');
    await expect
      .poll(() => page.evaluate<string>('getComputedStyle(document.body).backgroundColor'))
      .toBe('rgb(17, 19, 24)');
    await shot('08-dark');
    await page.setViewportSize({ width: 360, height: 740 });
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(360);
    expect(await composer().isVisible()).toBe(true);
    // The view follows the newest line.
    const newestInView = async () => {
      const newest = await lines().getByTestId('message').last().boundingBox();
      const box = await lines().boundingBox();
      return newest !== null && box !== null && newest.y + newest.height <= box.y + box.height + 1;
    };
    await expect.poll(newestInView, { timeout: 5000 }).toBe(true);
    expect(await lines().getByTestId('message').last().textContent()).toContain('welcome back');
    await shot('09-mobile-chat');
    // The contact panel (verification) is one tap away.
    await page.getByTestId('members-toggle').click();
    expect(await page.getByTestId('members').isVisible()).toBe(true);
    await shot('09b-mobile-contact');
    await page.getByTestId('members-close').click();
    expect(await page.getByTestId('members').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'conversations' }).click();
    expect(await page.getByTestId('conversations').isVisible()).toBe(true);
    await shot('10-mobile-list');
    expect(pageErrors).toEqual([]);
  });
});
