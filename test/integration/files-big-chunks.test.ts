import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  encodeFilePutHeader,
  FILE_BINARY_CHUNK_BYTES,
  MAX_FILE_CHUNK_BYTES,
} from '../../src/protocol/index.js';
import { FBIN, filesFixture, JSON_ONLY } from '../helpers/files-fixture.js';
import { helloV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';

const CS = FILE_BINARY_CHUNK_BYTES;
/** A two-chunk "file" of 256 KiB chunks: a full sealed chunk, then a short last one. */
const FULL = randomBytes(CS + 16);
const LAST = randomBytes(100 + 16);

describe('big chunks in binary mode (cs) over real TLS', () => {
  const fx = filesFixture('sc-bigchunk-');
  const { clients, who, login } = fx;
  const announce = (alice: RawClient, id: string, cs: unknown = CS) =>
    alice.send({
      type: 'fnew',
      id,
      bytes: FULL.length + LAST.length,
      chunks: 2,
      cs,
      to: 'bob',
    });
  const upload = async (alice: RawClient, id: string) => {
    announce(alice, id);
    const ok = await alice.next((x) => x.type === 'fok' && x.id === id);
    const file = ok.file as string;
    alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, 0, FULL.length)), FULL]));
    alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, 1, LAST.length)), LAST]));
    await alice.next((x) => x.type === 'fack' && x.file === file && x.have === 2);
    return { file, cap: ok.cap as string };
  };

  it('announces its largest chunk size in the welcome (maxchunk)', async () => {
    const { client, answer } = await helloV2(fx.t, 'alice', who('alice'), { caps: FBIN });
    clients.push(client);
    expect(answer.maxchunk).toBe(MAX_FILE_CHUNK_BYTES);
  });

  it('stores 256 KiB chunks at offsets of their own size and sends them back as they were', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const { file, cap } = await upload(alice, 'g1');
    // the chunk file holds exactly the sealed bytes: offsets came from the record's cs
    expect(statSync(join(fx.dir, 'files', `${file}.chunks`)).size).toBe(FULL.length + LAST.length);
    bob.binaryChunks();
    bob.send({ type: 'fget', file, cap, i: 0, n: 2 });
    const c0 = await bob.next((x) => x.type === 'fchunkb' && x.file === file && x.i === 0);
    const c1 = await bob.next((x) => x.type === 'fchunkb' && x.file === file && x.i === 1);
    expect(Buffer.compare(c0.body as Buffer, FULL)).toBe(0);
    expect(Buffer.compare(c1.body as Buffer, LAST)).toBe(0);
    bob.send({ type: 'fstat', file, cap });
    expect(await bob.next((x) => x.type === 'fstate' && x.file === file)).toMatchObject({
      have: 2,
      chunks: 2,
      complete: true,
    });
  });

  it('answers back-to-back fgets with the right bytes (their batches share reused read buffers)', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const sealed = [randomBytes(CS + 16), randomBytes(CS + 16), randomBytes(CS + 16), LAST];
    const bytes = sealed.reduce((n, c) => n + c.length, 0);
    alice.send({ type: 'fnew', id: 'g9', bytes, chunks: 4, cs: CS, to: 'bob' });
    const ok = await alice.next((x) => x.type === 'fok' && x.id === 'g9');
    const file = ok.file as string;
    for (const [i, chunk] of sealed.entries())
      alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, i, chunk.length)), chunk]));
    await alice.next((x) => x.type === 'fack' && x.file === file && x.have === 4);
    bob.binaryChunks();
    // three requests at once, the same chunks asked twice: each batch read after the last went out
    bob.send({ type: 'fget', file, cap: ok.cap, i: 0, n: 2 });
    bob.send({ type: 'fget', file, cap: ok.cap, i: 2, n: 2 });
    bob.send({ type: 'fget', file, cap: ok.cap, i: 0, n: 2 });
    const got: Buffer[] = [];
    for (let k = 0; k < 6; k++) {
      const chunk = await bob.next((x) => x.type === 'fchunkb' && x.file === file);
      expect(chunk.i).toBe([0, 1, 2, 3, 0, 1][k]);
      got.push(chunk.body as Buffer);
    }
    expect(got.map((b, k) => b.equals(sealed[[0, 1, 2, 3, 0, 1][k]!]!))).toEqual(
      Array(6).fill(true),
    );
  });

  it('refuses a chunk of the old size in a big-chunk upload (E_FILE_CHUNK)', async () => {
    const alice = await login('alice');
    announce(alice, 'g2');
    const ok = await alice.next((x) => x.type === 'fok' && x.id === 'g2');
    const small = randomBytes(32 * 1024 + 16);
    alice.send(
      Buffer.concat([Buffer.from(encodeFilePutHeader(ok.file as string, 0, small.length)), small]),
    );
    const refused = await alice.error(ErrorCode.FILE_CHUNK);
    expect(refused.ref).toBe(ok.file);
    await alice.sync();
  });

  it.each([
    ['over the maximum', 2 * MAX_FILE_CHUNK_BYTES],
    ['not a power of two', 300_000],
    ['under 32 KiB', 16 * 1024],
    ['not a number', '262144'],
  ])(
    'refuses an announced chunk size %s with E_BAD_FIELD, keeping the connection',
    async (_what, cs) => {
      const alice = await login('alice');
      announce(alice, 'g3', cs);
      const refused = await alice.error(ErrorCode.BAD_FIELD);
      expect(refused.ref).toBe('g3');
      expect(String(refused.reason ?? refused.message ?? refused.text)).toMatch(/"cs"/);
      await alice.sync();
      expect(alice.frames.some((x) => x.type === 'fok')).toBe(false);
    },
  );

  it('refuses big chunks from a client without binary mode (E_FILE_CHUNK): JSON lines cannot carry them', async () => {
    const alice = await login('alice', JSON_ONLY);
    announce(alice, 'g4');
    const refused = await alice.error(ErrorCode.FILE_CHUNK);
    expect(refused.ref).toBe('g4');
    expect(String(refused.reason ?? refused.message ?? refused.text)).toMatch(/binary mode/);
    await alice.sync();
  });

  it('gives a JSON-mode recipient of a big-chunk file a clear E_FILE_CHUNK, not a broken line', async () => {
    const alice = await login('alice');
    const bob = await login('bob', JSON_ONLY);
    const { file, cap } = await upload(alice, 'g5');
    bob.send({ type: 'fget', file, cap, i: 0, n: 1 });
    const refused = await bob.error(ErrorCode.FILE_CHUNK);
    expect(refused.ref).toBe(file);
    expect(String(refused.reason ?? refused.message ?? refused.text)).toMatch(
      /binary mode \(fbin\)/,
    );
    await bob.sync();
    expect(bob.frames.some((x) => x.type === 'fchunk')).toBe(false);
  });

  it('bounds one fget in bytes: more big chunks than fit 512 KiB are refused', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const { file, cap } = await upload(alice, 'g6');
    bob.binaryChunks();
    bob.send({ type: 'fget', file, cap, i: 0, n: 3 });
    const refused = await bob.error(ErrorCode.FILE_CHUNK);
    expect(String(refused.reason ?? refused.message ?? refused.text)).toMatch(/at most 2 chunks/);
    await bob.sync();
  });

  it('serves the largest chunks it announces (maxchunk, 1 MiB): three fgets of one chunk each, all answered', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const big = MAX_FILE_CHUNK_BYTES;
    const chunks = [randomBytes(big + 16), randomBytes(big + 16), randomBytes(10 + 16)];
    alice.send({
      type: 'fnew',
      id: 'g7',
      bytes: chunks.reduce((sum, c) => sum + c.length, 0),
      chunks: 3,
      cs: big,
      to: 'bob',
    });
    const ok = await alice.next((x) => x.type === 'fok' && x.id === 'g7');
    const file = ok.file as string;
    for (const [i, c] of chunks.entries())
      alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, i, c.length)), c]));
    await alice.next((x) => x.type === 'fack' && x.file === file && x.have === 3);
    bob.binaryChunks();
    for (let i = 0; i < 3; i++) bob.send({ type: 'fget', file, cap: ok.cap, i, n: 1 });
    for (let i = 0; i < 3; i++) {
      const got = await bob.next((x) => x.type === 'fchunkb' && x.file === file && x.i === i);
      expect(Buffer.compare(got.body as Buffer, chunks[i]!)).toBe(0);
    }
    // The answers filled bob's queue past its cap while his input was paused behind the
    // handler: once he read them, his input must go on (it stayed paused for good before).
    await bob.sync();
    bob.send({ type: 'fget', file, cap: ok.cap, i: 0, n: 1 });
    await bob.next((x) => x.type === 'fchunkb' && x.file === file && x.i === 0);
  });

  it('serves the largest chunks while they are uploaded: fgets held before the chunks arrive are answered', async () => {
    const alice = await login('alice');
    const bob = await login('bob');
    const big = MAX_FILE_CHUNK_BYTES;
    const chunks = [randomBytes(big + 16), randomBytes(big + 16), randomBytes(10 + 16)];
    alice.send({
      type: 'fnew',
      id: 'g8',
      bytes: chunks.reduce((sum, c) => sum + c.length, 0),
      chunks: 3,
      cs: big,
      to: 'bob',
    });
    const ok = await alice.next((x) => x.type === 'fok' && x.id === 'g8');
    const file = ok.file as string;
    bob.binaryChunks();
    for (let i = 0; i < 3; i++) bob.send({ type: 'fget', file, cap: ok.cap, i, n: 1 });
    for (const [i, c] of chunks.entries())
      alice.send(Buffer.concat([Buffer.from(encodeFilePutHeader(file, i, c.length)), c]));
    for (let i = 0; i < 3; i++) {
      const got = await bob.next((x) => x.type === 'fchunkb' && x.file === file && x.i === i);
      expect(Buffer.compare(got.body as Buffer, chunks[i]!)).toBe(0);
    }
  });
});
