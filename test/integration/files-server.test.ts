import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chunkCount,
  chunkPlainLength,
  FILE_CHUNK_BYTES,
  openChunk,
  sealChunk,
} from '../../src/protocol/index.js';
import { ALL_CAPS, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { TestClock } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const CAPS = [...ALL_CAPS, 'files'];

/** A file sealed as the client seals it: every chunk, with its transfer id and key. */
function sealFile(plain: Buffer) {
  const key = randomBytes(32);
  const tid = randomBytes(16);
  const chunks = chunkCount(plain.length);
  const sealed: Buffer[] = [];
  for (let i = 0; i < chunks; i++) {
    const part = plain.subarray(
      i * FILE_CHUNK_BYTES,
      i * FILE_CHUNK_BYTES + chunkPlainLength(plain.length, i),
    );
    sealed.push(
      Buffer.from(sealChunk(key, { transferId: tid, index: i, final: i === chunks - 1 }, part)),
    );
  }
  return { key, tid, chunks, sealed, bytes: sealed.reduce((n, c) => n + c.length, 0) };
}

type Sealed = ReturnType<typeof sealFile>;

async function announce(
  client: RawClient,
  f: Sealed,
  target: { to?: string; room?: string },
  id = 'n1',
) {
  client.send({ type: 'fnew', id, bytes: f.bytes, chunks: f.chunks, ...target });
  return client.next(
    (x) => (x.type === 'fok' || x.type === 'error') && (x.id === id || x.ref === id),
  );
}

async function upload(client: RawClient, file: string, f: Sealed, from = 0, to = f.chunks) {
  for (let i = from; i < to; i++)
    client.send({ type: 'fput', file, i, data: f.sealed[i]!.toString('base64') });
  const ack = await client.next((x) => x.type === 'fack' && x.have === to, 10_000);
  return ack;
}

async function download(client: RawClient, file: string, cap: string, f: Sealed): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < f.chunks; i += 16) {
    const n = Math.min(16, f.chunks - i);
    client.send({ type: 'fget', file, cap, i, n });
    for (let k = i; k < i + n; k++) {
      const chunk = await client.next((x) => x.type === 'fchunk' && x.i === k, 10_000);
      parts.push(
        Buffer.from(
          openChunk(
            f.key,
            { transferId: f.tid, index: k, final: k === f.chunks - 1 },
            Buffer.from(chunk.data as string, 'base64'),
          ),
        ),
      );
    }
  }
  return Buffer.concat(parts);
}

describe('file transfer on the server (real TLS)', () => {
  let t: TestServer;
  let dir: string;
  const clock = new TestClock();
  const clients: RawClient[] = [];
  const identities = new Map<string, ReturnType<typeof newIdentity>>();
  const login = async (name: string, caps = CAPS) => {
    if (!identities.has(name)) identities.set(name, newIdentity());
    const c = await loginV2(t, name, identities.get(name)!, { caps });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-files-'));
    t = await startTestServer(
      {
        filesDir: join(dir, 'files'),
        maxFileBytes: 300 * 1024,
        fileQuotaPerIdentity: 500 * 1024,
        fileTtlMs: 3_600_000,
      },
      { now: clock.now },
    );
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers `files`, stores sealed chunks 0600 in a 0700 directory, serves them with the capability, and deletes the file once the recipient has it', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const plain = Buffer.alloc(3 * FILE_CHUNK_BYTES + 100, 'secret plaintext! ');
    const f = sealFile(plain);
    const ok = await announce(alice, f, { to: 'bob' });
    expect(ok).toMatchObject({ type: 'fok', id: 'n1' });
    const file = ok.file as string;
    expect(await upload(alice, file, f)).toMatchObject({ have: f.chunks });
    const store = join(dir, 'files');
    expect(statSync(store).mode & 0o777).toBe(0o700);
    for (const entry of readdirSync(store)) {
      expect(statSync(join(store, entry)).mode & 0o777).toBe(0o600);
      const bytes = readFileSync(join(store, entry));
      expect(bytes.includes(Buffer.from('secret plaintext'))).toBe(false);
    }
    expect(readFileSync(join(store, `${file}.chunks`)).length).toBe(f.bytes);
    bob.send({ type: 'fstat', file, cap: ok.cap });
    expect(await bob.next((x) => x.type === 'fstate')).toMatchObject({
      have: f.chunks,
      complete: true,
    });
    expect((await download(bob, file, ok.cap as string, f)).equals(plain)).toBe(true);
    bob.send({ type: 'fdone', file, cap: ok.cap });
    await bob.sync();
    expect(readdirSync(store).filter((e) => e.startsWith(file))).toEqual([]);
    bob.send({ type: 'fget', file, cap: ok.cap, i: 0, n: 1 });
    expect(await bob.error('E_NO_SUCH_FILE')).toMatchObject({ ref: file });
  });

  it('round-trips an empty file and a 1-byte file', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    for (const plain of [Buffer.alloc(0), Buffer.from('x')]) {
      const f = sealFile(plain);
      const ok = await announce(alice, f, { to: 'bob' }, `n${plain.length}`);
      await upload(alice, ok.file as string, f);
      expect((await download(bob, ok.file as string, ok.cap as string, f)).equals(plain)).toBe(
        true,
      );
    }
  });

  it('refuses a wrong capability, a client without `files`, chunks out of order or of the wrong length', async () => {
    const alice = await login('alice');
    const mallory = await login('mallory');
    const old = await login('oldclient', ALL_CAPS);
    const f = sealFile(randomBytes(2 * FILE_CHUNK_BYTES));
    const ok = await announce(alice, f, { to: 'bob' });
    const file = ok.file as string;
    mallory.send({ type: 'fget', file, cap: randomBytes(32).toString('base64'), i: 0, n: 1 });
    expect(await mallory.error('E_NO_SUCH_FILE')).toMatchObject({ ref: file });
    mallory.send({ type: 'fput', file, i: 0, data: f.sealed[0]!.toString('base64') });
    await mallory.error('E_NO_SUCH_FILE');
    old.send({ type: 'fnew', id: 'x', bytes: 16, chunks: 1, to: 'bob' });
    expect(await old.error('E_FORBIDDEN')).toMatchObject({ ref: 'x' });
    alice.send({ type: 'fput', file, i: 1, data: f.sealed[1]!.toString('base64') });
    await alice.error('E_FILE_CHUNK');
    alice.send({
      type: 'fput',
      file,
      i: 0,
      data: f.sealed[1]!.subarray(0, 100).toString('base64'),
    });
    await alice.error('E_FILE_CHUNK');
    await upload(alice, file, f, 0, 1);
    // a chunk sent again (a lost ack) is not stored twice
    alice.send({ type: 'fput', file, i: 0, data: f.sealed[0]!.toString('base64') });
    expect(await alice.next((x) => x.type === 'fack')).toMatchObject({ have: 1 });
    const bob = await login('bob');
    // (a chunk not uploaded yet is waited for: files-hold.test.ts)
    bob.send({ type: 'fget', file, cap: ok.cap, i: f.chunks, n: 1 });
    await bob.error('E_FILE_CHUNK');
  });

  it('enforces the maximum size and the per-identity quota with clear errors', async () => {
    const alice = await login('alice');
    const big = sealFile(Buffer.alloc(301 * 1024));
    const tooBig = await announce(alice, big, { to: 'bob' }, 'big');
    expect(tooBig).toMatchObject({ type: 'error', code: 'E_FILE_TOO_BIG', ref: 'big' });
    expect(String(tooBig.text)).toMatch(/limit/);
    const f = sealFile(Buffer.alloc(250 * 1024));
    expect(await announce(alice, f, { to: 'bob' }, 'q1')).toMatchObject({ type: 'fok' });
    const over = await announce(alice, f, { to: 'bob' }, 'q2');
    expect(over).toMatchObject({ type: 'error', code: 'E_FILE_QUOTA', ref: 'q2' });
    expect(String(over.text)).toMatch(/exceed/);
  });

  it('deletes files past their time to live (moved clock, then the sweep)', async () => {
    const alice = await login('alice');
    const f = sealFile(randomBytes(100));
    const ok = await announce(alice, f, { to: 'bob' });
    await upload(alice, ok.file as string, f);
    clock.advance(3_600_000 - 1000);
    await t.server.sweep();
    expect(
      readdirSync(join(dir, 'files')).filter((e) => e.startsWith(ok.file as string)),
    ).toHaveLength(2);
    clock.advance(1001);
    await t.server.sweep();
    expect(readdirSync(join(dir, 'files')).filter((e) => e.startsWith(ok.file as string))).toEqual(
      [],
    );
    const bob = await login('bob');
    bob.send({ type: 'fget', file: ok.file, cap: ok.cap, i: 0, n: 1 });
    await bob.error('E_NO_SUCH_FILE');
  });

  it('sends a room file to the members at send time; it goes once all of them have it', async () => {
    const [alice, bob, carol] = [await login('alice'), await login('bob'), await login('carol')];
    for (const [i, c] of [alice, bob, carol].entries()) {
      c.send({ type: 'join', room: '#files', id: `j${i}` });
      await c.next((x) => x.type === 'joined' || (x.type === 'room' && x.room === '#files'));
    }
    await carol.sync();
    const f = sealFile(randomBytes(FILE_CHUNK_BYTES));
    const ok = await announce(alice, f, { room: '#files' });
    await upload(alice, ok.file as string, f);
    const late = await login('dave');
    late.send({ type: 'fnew', id: 'r', bytes: 16, chunks: 1, room: '#files' });
    await late.error('E_NOT_MEMBER');
    for (const member of [bob, carol]) {
      await download(member, ok.file as string, ok.cap as string, f);
      member.send({ type: 'fdone', file: ok.file, cap: ok.cap });
      await member.sync();
    }
    expect(readdirSync(join(dir, 'files')).filter((e) => e.startsWith(ok.file as string))).toEqual(
      [],
    );
  });
});

describe('file upload resume across a server restart', () => {
  it('keeps the chunks stored before the restart and takes the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-files-'));
    const config = { filesDir: join(dir, 'files'), dataPath: join(dir, 'db.sqlite') };
    const who = newIdentity();
    let t = await startTestServer(config);
    try {
      const f = sealFile(randomBytes(5 * FILE_CHUNK_BYTES + 7));
      let alice = await loginV2(t, 'alice', who, { caps: CAPS });
      const ok = await announce(alice, f, { to: 'bob' });
      const file = ok.file as string;
      await upload(alice, file, f, 0, 3);
      alice.close();
      await t.close();
      t = await startTestServer(config);
      alice = await loginV2(t, 'alice', who, { caps: CAPS });
      alice.send({ type: 'fstat', file });
      expect(await alice.next((x) => x.type === 'fstate')).toMatchObject({
        have: 3,
        complete: false,
      });
      await upload(alice, file, f, 3);
      const bob = await loginV2(t, 'bob', newIdentity(), { caps: CAPS });
      expect(await download(bob, file, ok.cap as string, f)).toHaveLength(5 * FILE_CHUNK_BYTES + 7);
      alice.close();
      bob.close();
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
