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
    server = await spawnServe();
    alice = await spawnWebClient('alice', server.port, ['--pin', server.pin]);
    bob = spawnJsonClient('bob', server.port, ['--pin', server.pin]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // A name that resolves to loopback, as a DNS-rebinding attacker's would.
      args: ['--host-resolver-rules=MAP rebind.test 127.0.0.1'],
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
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
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
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
    const hostile: Server = createServer((_req, res) => {
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
});

export { CLI, spawnServeWith };
