import { describe, expect, it } from 'vitest';
import {
  encodeFilePutHeader,
  PUT_BODY_RULE,
  RawBody,
  StreamDecoder,
} from '../../../src/protocol/index.js';
import { BodyPool, sizeFor } from '../../../src/server/files/body-pool.js';

const K = 1024;

describe('BodyPool (uploaded chunk bodies, reused once on disk)', () => {
  it('gives a body a buffer of the smallest sealed chunk size holding it', () => {
    expect(sizeFor(0)).toBe(32 * K + 16);
    expect(sizeFor(32 * K + 16)).toBe(32 * K + 16);
    expect(sizeFor(32 * K + 17)).toBe(64 * K + 16);
    expect(sizeFor(256 * K + 16)).toBe(256 * K + 16);
    expect(sizeFor(1024 * K + 16)).toBe(1024 * K + 16);
    expect(sizeFor(1024 * K + 17)).toBeUndefined();
  });

  it('reuses a released buffer, keeps at most `kept` free per size, ignores buffers not its own', () => {
    const pool = new BodyPool(1);
    const a = pool.allocate(256 * K + 16);
    const b = pool.allocate(256 * K + 16);
    expect(a.length).toBe(256 * K + 16);
    // (identity as booleans: a failed toBe deep-compares 256 KiB, which takes seconds)
    expect(b.buffer === a.buffer).toBe(false);
    pool.release(a);
    pool.release(b); // over `kept`: dropped (collected)
    expect(pool.freeOf(256 * K + 16)).toBe(1);
    const c = pool.allocate(200 * K);
    expect(c.buffer === a.buffer).toBe(true); // the released one, as a view of the asked length
    expect(c.length).toBe(200 * K);
    pool.release(Buffer.alloc(256 * K + 16)); // not made here
    pool.release(c.subarray(5)); // not a body it handed out
    expect(pool.freeOf(256 * K + 16)).toBe(0);
  });

  it('is what a stream decoder reads bodies into when given as its allocator', () => {
    const pool = new BodyPool();
    const decoder = new StreamDecoder(1024);
    decoder.enableBodies(PUT_BODY_RULE, { allocate: (n) => pool.allocate(n) });
    const body = Buffer.alloc(40 * K, 9);
    const items = decoder.push(
      Buffer.concat([Buffer.from(encodeFilePutHeader('0'.repeat(32), 0, body.length)), body]),
    );
    const raw = items.find((item): item is RawBody => item instanceof RawBody)!;
    expect(Buffer.from(raw.bytes).equals(body)).toBe(true);
    expect(raw.bytes.buffer.byteLength).toBe(64 * K + 16); // a pooled buffer
    pool.release(raw.bytes);
    expect(pool.freeOf(64 * K + 16)).toBe(1);
  });
});
