/**
 * Issue 19, big files: a 50 MiB round trip between real clients, direct and to a room of
 * three, and a recipient killed (SIGKILL) mid-download that resumes after a restart
 * without fetching again what it already wrote.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientEvent, TransferEvent } from '../../src/client/events.js';
import { FILE_BINARY_CHUNK_BYTES } from '../../src/protocol/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { spawnJsonClient, spawnServe } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const isTransfer =
  (phase: TransferEvent['phase'], name: string) =>
  (e: ClientEvent): e is TransferEvent =>
    e.kind === 'transfer' && e.phase === phase && e.name === name;

function bigFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  const block = randomBytes(MiB);
  for (let i = 0; i < mib; i++)
    writeSync(
      fd,
      block.map((b) => b ^ i),
    );
  closeSync(fd);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('50 MiB files between real clients', { timeout: 240_000 }, () => {
  let t: TestServer;
  let root: string;
  const chats: TestChat[] = [];
  const chat = async (name: string) => {
    const home = mkdtempSync(join(root, `${name}-`));
    const c = await startChat(
      name,
      t.port,
      t.server.pin,
      home,
      {},
      {
        transfers: { downloadDir: join(home, 'dl') },
      },
    );
    chats.push(c);
    return c;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sc-big-'));
    t = await startTestServer({ filesDir: join(root, 'store'), logLevel: 'warn' });
  });
  afterEach(async () => {
    for (const c of chats.splice(0)) await c.close();
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('round-trips 50 MiB directly and to a room of three', async () => {
    const [alice, bob, carol] = [await chat('alice'), await chat('bob'), await chat('carol')];
    const path = join(root, 'fifty.bin');
    bigFile(path, 50);
    const digest = await sha256(path);
    await alice.client.transfers!.send('bob', path);
    const offer = (await bob.waitFor(isTransfer('offer', 'fifty.bin'), 120_000)) as TransferEvent;
    await bob.client.transfers!.accept(offer.id);
    const done = (await bob.waitFor(isTransfer('done', 'fifty.bin'), 120_000)) as TransferEvent;
    expect(await sha256(done.path!)).toBe(digest);
    for (const c of [alice, bob, carol]) {
      c.client.rooms.join('#big');
      await c.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#big');
    }
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'carol');
    await alice.client.transfers!.send('#big', path);
    for (const member of [bob, carol]) {
      const seen = member.events.filter(isTransfer('done', 'fifty.bin')).length;
      const roomOffer = (await member.waitFor(
        (e) => isTransfer('offer', 'fifty.bin')(e) && e.room === '#big',
        120_000,
      )) as TransferEvent;
      await member.client.transfers!.accept(roomOffer.id);
      await member.waitFor(
        () => member.events.filter(isTransfer('done', 'fifty.bin')).length > seen,
        120_000,
      );
      const saved = (member.events.filter(isTransfer('done', 'fifty.bin')).at(-1) as TransferEvent)
        .path!;
      expect(await sha256(saved)).toBe(digest);
    }
  });
});

describe('a recipient killed mid-download (spawned CLI, SIGKILL)', { timeout: 240_000 }, () => {
  it('resumes after a restart and fetches only the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-kill-'));
    const server = await spawnServe(['--files-dir', join(root, 'store')]);
    try {
      const path = join(root, 'kill.bin');
      bigFile(path, 40);
      const digest = await sha256(path);
      const dl = join(root, 'dl');
      const alice = spawnJsonClient('alice', server.port, ['--pin', server.pin]);
      let bob = spawnJsonClient('bob', server.port, ['--pin', server.pin, '--downloads', dl]);
      const home = bob.home;
      await alice.waitFor((e) => e.kind === 'users');
      await bob.waitFor((e) => e.kind === 'users');
      alice.send(`/send bob ${path}`);
      const offer = await bob.waitFor((e) => e.kind === 'transfer' && e.phase === 'offer', 120_000);
      bob.send(`/accept ${offer.id}`);
      const part = () =>
        existsSync(dl) ? readdirSync(dl).find((n) => n.endsWith('.part')) : undefined;
      let written = 0;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const p = part();
        written = p ? statSync(join(dl, p)).size : 0;
        if (written >= 4 * MiB) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      bob.kill();
      await new Promise((r) => bob.proc.once('exit', r));
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(40 * MiB);
      const kept = statSync(join(dl, part()!)).size;
      bob = spawnJsonClient('bob', server.port, ['--pin', server.pin, '--downloads', dl], { home });
      const done = await bob.waitFor((e) => e.kind === 'transfer' && e.phase === 'done', 180_000);
      expect(await sha256(done.path as string)).toBe(digest);
      // the resumed download started at the chunks kept, not at 0 (the CLI moves 256 KiB
      // chunks in binary mode: whole chunks of that size are kept)
      const resumed = bob.events.find(
        (e) => e.kind === 'transfer' && (e.phase === 'progress' || e.phase === 'started'),
      );
      expect(resumed?.bytes).toBeGreaterThanOrEqual(
        Math.floor(kept / FILE_BINARY_CHUNK_BYTES - 1) * FILE_BINARY_CHUNK_BYTES,
      );
      alice.kill();
      bob.kill();
    } finally {
      await server.stop('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
});
