import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type JsonClient,
  REPO_ROOT,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
} from '../helpers/cli.js';
import { spawnWebClient, type WebClient } from '../helpers/web-client.js';

/**
 * File transfer in the GUI, in a real Chromium (the web-browser suite's setup, kept in its
 * own file for size): a file chosen in the page reaches a `--json` user, a file from the
 * `--json` user is offered, accepted, saved and downloaded in the page; a hostile name is
 * shown as text. Screenshots in test-artifacts/web/.
 */
const SHOTS = `${REPO_ROOT}test-artifacts/web`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('file transfer in the web UI (Chromium)', () => {
  let dir: string;
  let server: ServeProcess;
  let alice: WebClient;
  let bob: JsonClient;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const transfer = (phase: string, direction: string) => (e: Record<string, unknown>) =>
    e.kind === 'transfer' && e.phase === phase && e.direction === direction;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'sc-web-files-'));
    server = await spawnServe(['--files-dir', join(dir, 'store')]);
    alice = await spawnWebClient('alice', server.port, ['--pin', server.pin]);
    bob = spawnJsonClient('bob', server.port, [
      '--pin',
      server.pin,
      '--downloads',
      join(dir, 'bob-dl'),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(message.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await alice?.stop();
    await bob?.end();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a file from the page to a --json user, and receives, saves and downloads one back', async () => {
    await page.goto(alice.url);
    await expect
      .poll(() => page.getByTestId('connection').textContent(), { timeout: 20_000 })
      .toMatch(/^connected/);
    await page.getByTestId('open-input').fill('bob');
    await page.getByTestId('open-input').press('Enter');
    await bob.waitFor((e) => e.kind === 'users', 20_000);

    // Page → bob: chosen in the file picker, uploaded to the local host, sent by the core.
    const up = Buffer.from('page to terminal\n'.repeat(20_000));
    await page.getByTestId('file-input').setInputFiles({
      name: 'from-page.txt',
      mimeType: 'text/plain',
      buffer: up,
    });
    const offer = await bob.waitFor(transfer('offer', 'down'), 30_000);
    expect(offer).toMatchObject({ peer: 'alice', name: 'from-page.txt', size: up.length });
    bob.send(`/accept ${offer.id}`);
    const got = await bob.waitFor(transfer('done', 'down'), 30_000);
    expect(sha256(readFileSync(String(got.path)))).toBe(sha256(up));
    const card = page.locator('[data-testid="transfer"]', { hasText: 'from-page.txt' });
    await expect.poll(() => card.getByTestId('transfer-state').textContent()).toBe('sent');
    // The kept upload copy went with the finished upload.
    expect(readdirSync(join(alice.home, 'web', 'uploads'))).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/12-file-sent.png` });

    // bob → page, under a hostile name: shown as text, accepted by a click, saved, downloaded.
    const hostile = '<img src=x onerror="window.__pwned=1">\u202Egpj.exe';
    const down = Buffer.alloc(200_000);
    for (let i = 0; i < down.length; i += 1) down[i] = (i * 7) % 251;
    const src = join(dir, hostile);
    writeFileSync(src, down);
    bob.send(`/send alice ${src}`);
    const offered = page.locator('[data-testid="transfer"]', { hasText: 'gpj.exe' });
    await expect.poll(() => offered.count(), { timeout: 30_000 }).toBe(1);
    const shown = (await offered.getByTestId('transfer-name').textContent()) ?? '';
    expect(shown).toContain('<img src=x onerror="window.__pwned=1">');
    expect(shown).toContain('⟨U+202E⟩');
    expect(shown).not.toContain('\u202E');
    expect(await page.locator('.transfers img').count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/13-file-offer.png` });
    await offered.getByTestId('transfer-accept').click();
    await expect
      .poll(() => offered.getByTestId('transfer-state').textContent(), { timeout: 30_000 })
      .toBe('received');
    const saved = readdirSync(join(alice.home, 'downloads'));
    expect(saved).toHaveLength(1);
    expect(saved[0]).not.toMatch(/[<>\u202E/]/);
    const onDisk = readFileSync(join(alice.home, 'downloads', saved[0] as string));
    expect(sha256(onDisk)).toBe(sha256(down));
    // The page's Download button: an attachment from the local host, same bytes.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      offered.getByTestId('transfer-download').click(),
    ]);
    const fetched = join(dir, 'fetched.bin');
    await download.saveAs(fetched);
    expect(sha256(readFileSync(fetched))).toBe(sha256(down));
    await bob.waitFor(transfer('done', 'up'), 30_000);

    // The transfers panel lists both.
    await page.getByTestId('transfers-toggle').click();
    await expect
      .poll(() => page.getByTestId('transfers-panel').getByTestId('transfer').count())
      .toBe(2);
    await page.screenshot({ path: `${SHOTS}/14-transfers-panel.png` });
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('a file dropped on a room goes to its members', async () => {
    await page.getByTestId('join-room').fill('#files');
    await page.getByTestId('join').click();
    await expect.poll(() => page.getByTestId('title').textContent()).toBe('#files');
    bob.send('/join #files');
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#files');
    await expect.poll(() => page.getByTestId('member').count(), { timeout: 15_000 }).toBe(2);
    const data = 'dropped on the room\n'.repeat(1000);
    // A drop as the browser makes it: a DataTransfer holding a File (built in the page).
    const transferData = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([${JSON.stringify(data)}], 'room-drop.txt', { type: 'text/plain' }));
      return dt;
    })()`);
    await page.locator('main.chat').dispatchEvent('drop', { dataTransfer: transferData });
    const offer = await bob.waitFor(
      (e) => transfer('offer', 'down')(e) && e.name === 'room-drop.txt',
      30_000,
    );
    expect(offer).toMatchObject({ peer: 'alice', room: '#files' });
    bob.send(`/accept ${offer.id}`);
    const got = await bob.waitFor(
      (e) => transfer('done', 'down')(e) && e.name === 'room-drop.txt',
      30_000,
    );
    expect(readFileSync(String(got.path), 'utf8')).toBe(data);
    const card = page
      .getByTestId('conversation-files')
      .locator('[data-testid="transfer"]', { hasText: 'room-drop.txt' });
    await expect.poll(() => card.getByTestId('transfer-state').textContent()).toBe('sent');
    expect(pageErrors).toEqual([]);
  });
});
