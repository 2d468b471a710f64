import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, TransferEvent } from '../../src/client/events.js';
import { ChatController } from '../../src/client/ui/controller.js';
import { contentDisposition } from '../../src/client/web/web-files.js';
import { WebHost } from '../../src/client/web/web-host.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type Answer, fakeAssets, get, openPage, signIn } from '../helpers/web-page.js';

const assetsDir = fakeAssets();

/** A raw POST with a body (node:http, so every header can be anything). */
function post(port: number, path: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { host: `127.0.0.1:${port}`, 'content-length': String(body.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    // A refusal may close before the whole body went out: the answer still arrives.
    req.on('error', reject);
    req.end(body);
  });
}

describe('the page’s file upload: who may upload, and how much', () => {
  let host: WebHost;
  let dir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-web-up-'));
    host = new WebHost({
      self: 'alice',
      assetsDir,
      uploadDir: join(dir, 'uploads'),
      maxUploadBytes: 1000,
    });
    host.attach({
      handle: (line) => lines.push(line),
      safetyNumberWith: () => ({ ok: false, reason: '-' }),
      sendFile: async (target, path) => {
        lines.push(`/send ${target} ${path}`);
        return target === 'carol' ? 'carol cannot receive files here' : true;
      },
    });
  });
  afterAll(async () => {
    host.quit();
    await host.closed;
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses no cookie, no or wrong page key, a foreign or missing Origin, too large; writes nothing', async () => {
    const url = await host.listen();
    const port = host.server.port;
    const { cookie, key } = await signIn(url);
    const origin = `http://127.0.0.1:${port}`;
    const body = Buffer.from('hello');
    const path = '/upload?to=bob&name=a.txt';
    const good = { cookie, origin, 'x-securechat-key': key };
    const refused: Array<[Record<string, string>, Buffer, number]> = [
      [{ origin, 'x-securechat-key': key }, body, 403],
      [{ cookie, origin }, body, 403],
      [{ ...good, 'x-securechat-key': 'A'.repeat(43) }, body, 403],
      [{ cookie: `securechat_${port}=forged`, origin, 'x-securechat-key': key }, body, 403],
      [{ ...good, origin: 'http://127.0.0.1:1' }, body, 403],
      [{ cookie, 'x-securechat-key': key }, body, 403],
      [{ ...good, 'sec-fetch-site': 'cross-site' }, body, 403],
      [{ ...good, host: 'evil.example:80' }, body, 403],
      [good, Buffer.alloc(1001), 413],
    ];
    for (const [headers, bytes, status] of refused)
      expect((await post(port, path, headers, bytes)).status).toBe(status);
    expect((await post(port, '/upload?to=bad%20name&name=a', good, body)).status).toBe(400);
    expect((await get(port, path, good)).status).toBe(405);
    expect(existsSync(join(dir, 'uploads')) ? readdirSync(join(dir, 'uploads')) : []).toEqual([]);
    expect(lines).toEqual([]);
    // The same request with everything right is taken, under a safe name, 0600.
    const ok = await post(port, '/upload?to=bob&name=..%2F..%2F.bashrc', good, body);
    expect(ok.status).toBe(202);
    expect(lines).toHaveLength(1);
    const sent = /^\/send bob (.+)$/.exec(lines[0] as string)?.[1] as string;
    expect(sent.startsWith(join(dir, 'uploads'))).toBe(true);
    expect(sent.endsWith('/bashrc')).toBe(true);
    expect(readFileSync(sent, 'utf8')).toBe('hello');
    // The core refuses the send: the page hears why, and the kept copy is gone.
    const no = await post(port, '/upload?to=carol&name=c.txt', good, body);
    expect(no).toMatchObject({ status: 409, body: 'carol cannot receive files here\n' });
    expect(readdirSync(join(dir, 'uploads'))).toHaveLength(1); // bob's, still being sent
    // Downloads: only what the core reported saved, only with the key.
    expect((await get(port, '/download/abc', good)).status).toBe(404);
    expect((await get(port, '/download/abc', { cookie })).status).toBe(403);
    // A file saved before this run, listed by /transfers (after a restart), is served too.
    const earlier = join(dir, 'earlier.txt');
    writeFileSync(earlier, 'saved earlier');
    host.show({
      kind: 'transfers',
      ts: 1,
      transfers: [
        {
          id: 'e1',
          direction: 'down',
          peer: 'bob',
          name: 'earlier.txt',
          size: 13,
          bytes: 13,
          state: 'done',
          path: earlier,
        },
        {
          id: 'e2',
          direction: 'up',
          peer: 'bob',
          name: 'x',
          size: 1,
          bytes: 1,
          state: 'done',
          path: earlier,
        },
      ],
    });
    const listed = await get(port, '/download/e1', good);
    expect(listed).toMatchObject({ status: 200, body: 'saved earlier' });
    expect((await get(port, '/download/e2', good)).status).toBe(404);
  });

  it('names a download safely in Content-Disposition', () => {
    expect(contentDisposition('a"b\\c;%.txt')).toBe(
      `attachment; filename="a_b_c__.txt"; filename*=UTF-8''a%22b%5Cc%3B%25.txt`,
    );
    expect(contentDisposition('é.txt')).toContain(`filename="_.txt"`);
  });
});

describe('files between the page and a peer over real TLS', () => {
  let t: TestServer;
  let root: string;
  const chats: TestChat[] = [];
  const isTransfer =
    (phase: TransferEvent['phase'], dir: 'up' | 'down') =>
    (e: ClientEvent): e is TransferEvent =>
      e.kind === 'transfer' && e.phase === phase && e.direction === dir;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sc-web-files-'));
    t = await startTestServer({ filesDir: join(root, 'files'), lobby: undefined });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('the page uploads a file bob receives, and downloads the file bob sends', async () => {
    const homes = { alice: join(root, 'alice'), bob: join(root, 'bob') };
    const alice = await startChat(
      'alice',
      t.port,
      t.server.pin,
      undefined,
      {},
      {
        transfers: { downloadDir: join(homes.alice, 'dl') },
      },
    );
    const bob = await startChat(
      'bob',
      t.port,
      t.server.pin,
      undefined,
      {},
      {
        transfers: { downloadDir: join(homes.bob, 'dl') },
      },
    );
    chats.push(alice, bob);
    const uploads = join(homes.alice, 'web', 'uploads');
    const host = new WebHost({ self: 'alice', assetsDir, uploadDir: uploads });
    const controller = new ChatController(alice.client, host, undefined, { self: 'alice' });
    host.attach({
      handle: (line) => controller.handle(line),
      safetyNumberWith: (user) => alice.client.trust.safetyNumberWith(user),
      sendFile: (target, path) => alice.client.transfers!.send(target, path),
    });
    const url = await host.listen();
    try {
      const { cookie, key } = await signIn(url);
      const port = host.server.port;
      const origin = `http://127.0.0.1:${port}`;
      const page = await openPage(port, { cookie, origin }, key);
      await page.waitFor((m) => m.type === 'hello' && m.maxUpload === 100 * 1024 * 1024);
      const good = { cookie, origin, 'x-securechat-key': key };
      await alice.waitFor((e) => e.kind === 'presence' && e.user === 'bob');
      const up = Buffer.from('from the page: '.repeat(5000));
      const hostile = '<img src=x onerror=alert(1)>.txt';
      const answer = await post(
        port,
        `/upload?to=bob&name=${encodeURIComponent(hostile)}`,
        good,
        up,
      );
      expect(answer.status).toBe(202);
      const offer = (await bob.waitFor(isTransfer('offer', 'down'))) as TransferEvent;
      expect(offer).toMatchObject({ peer: 'alice', size: up.length });
      expect(offer.name).not.toMatch(/[<>]/); // made safe before it left
      await page.waitFor((m) => m.type === 'event' && isTransfer('done', 'up')(m.event));
      expect(readdirSync(uploads)).toEqual([]); // the kept copy went with the upload
      expect(await bob.client.transfers!.accept(offer.id)).toBe(true);
      const got = (await bob.waitFor(isTransfer('done', 'down'))) as TransferEvent;
      expect(readFileSync(got.path!).equals(up)).toBe(true);

      const down = Buffer.from('from bob '.repeat(3000));
      const src = join(root, 'report "q";.bin');
      writeFileSync(src, down);
      expect(await bob.client.transfers!.send('alice', src)).toBe(true);
      const shown = await page.waitFor(
        (m) => m.type === 'event' && isTransfer('offer', 'down')(m.event),
      );
      const id = (shown as { event: TransferEvent }).event.id;
      page.send({ type: 'line', text: `/accept ${id}` });
      await page.waitFor((m) => m.type === 'event' && isTransfer('done', 'down')(m.event));
      expect((await get(port, `/download/${id}`, { cookie, origin })).status).toBe(403);
      const fetched = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>(
        (resolve, reject) => {
          request(
            {
              host: '127.0.0.1',
              port,
              path: `/download/${id}`,
              headers: { host: `127.0.0.1:${port}`, ...good },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            },
          )
            .on('error', reject)
            .end();
        },
      );
      expect(fetched.body.equals(down)).toBe(true);
      expect(fetched.headers['content-type']).toBe('application/octet-stream');
      expect(fetched.headers['x-content-type-options']).toBe('nosniff');
      expect(String(fetched.headers['content-disposition'])).toMatch(/^attachment; filename="/);
      expect(String(fetched.headers['content-security-policy'])).toContain('sandbox');
    } finally {
      host.quit();
      await host.closed;
    }
  });
});
