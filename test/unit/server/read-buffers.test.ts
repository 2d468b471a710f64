import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkStore } from '../../../src/server/files/chunk-store.js';
import { READ_BUFFER_BYTES, ReadBuffers } from '../../../src/server/files/read-buffers.js';
import { ROOMY_STORE_LIMITS } from '../../helpers/files-fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ReadBuffers (download read buffers, reused and bounded)', () => {
  it('gives back the buffer put back, and never more than `kept` at once', () => {
    const pool = new ReadBuffers(2);
    const a = pool.take();
    const b = pool.take();
    expect(a?.length).toBe(READ_BUFFER_BYTES);
    // (identity as booleans: a failed toBe deep-compares a megabyte, which takes seconds)
    expect(b === a).toBe(false);
    expect(pool.take()).toBeUndefined(); // all in use: the read allocates its own
    pool.put(a);
    expect(pool.take() === a).toBe(true); // reused, not a new one
    pool.put(undefined); // (a read that had none)
    expect(pool.take()).toBeUndefined();
  });

  it('fits the largest batch an fget can read (1 MiB chunk, or sixteen 32 KiB ones)', () => {
    expect(READ_BUFFER_BYTES).toBeGreaterThanOrEqual(1024 * 1024 + 16);
    expect(READ_BUFFER_BYTES).toBeGreaterThanOrEqual(16 * (32 * 1024 + 16));
  });
});

describe('ChunkStore.read into a scratch buffer', () => {
  it('reads the chunks into the scratch buffer when it fits, into a new one when not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-readbuf-'));
    dirs.push(dir);
    const store = new ChunkStore(dir, ROOMY_STORE_LIMITS);
    const cs = 32 * 1024;
    const sealed = [randomBytes(cs + 16), randomBytes(cs + 16), randomBytes(100 + 16)];
    const bytes = sealed.reduce((n, c) => n + c.length, 0);
    const { record } = store.create({ identityKey: 'k', name: 'alice' }, bytes, 3, ['bob'], 0, cs);
    for (const [i, chunk] of sealed.entries()) await store.append(record, i, chunk).written;
    const scratch = Buffer.alloc(READ_BUFFER_BYTES);
    const chunks = await store.read(record, 0, 3, scratch);
    expect(chunks.map((c) => c.equals(sealed[chunks.indexOf(c)]!))).toEqual([true, true, true]);
    for (const chunk of chunks) expect(chunk.buffer === scratch.buffer).toBe(true); // views: no copy
    const small = Buffer.alloc(10);
    const [first] = await store.read(record, 0, 1, small);
    expect(first!.buffer === small.buffer).toBe(false);
    expect(first!.equals(sealed[0]!)).toBe(true);
    await store.close();
  });
});
