import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  chunkAad,
  chunkCount,
  chunkNonce,
  chunkPlainLength,
  ErrorCode,
  FILE_CHUNK_BYTES,
  openChunk,
  ProtocolError,
  sealChunk,
  sealChunkParts,
} from '../../../src/protocol/index.js';

const key = new Uint8Array(32).fill(7);
const tid = new Uint8Array(16).fill(3);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'other';
  }
  return undefined;
}

describe('file chunk crypto', () => {
  it('counts chunks: an empty file has one (final, empty) chunk', () => {
    expect(chunkCount(0)).toBe(1);
    expect(chunkCount(1)).toBe(1);
    expect(chunkCount(FILE_CHUNK_BYTES)).toBe(1);
    expect(chunkCount(FILE_CHUNK_BYTES + 1)).toBe(2);
    expect(chunkCount(3 * FILE_CHUNK_BYTES)).toBe(3);
    expect(chunkPlainLength(FILE_CHUNK_BYTES + 5, 1)).toBe(5);
    expect(chunkPlainLength(0, 0)).toBe(0);
  });

  it('derives distinct nonces from chunk indices (4 zero bytes, then uint64 big-endian)', () => {
    expect(Buffer.from(chunkNonce(0)).toString('hex')).toBe('000000000000000000000000');
    expect(Buffer.from(chunkNonce(258)).toString('hex')).toBe('000000000000000000000102');
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(Buffer.from(chunkNonce(i)).toString('hex'));
    expect(seen.size).toBe(2000);
  });

  it('binds the transfer id, index and final flag into the AAD', () => {
    const a = Buffer.from(chunkAad(tid, 1, false));
    expect(a.subarray(0, 24).toString()).toBe('securechat-file-chunk-v1');
    expect(a.equals(Buffer.from(chunkAad(tid, 1, true)))).toBe(false);
    expect(a.equals(Buffer.from(chunkAad(tid, 2, false)))).toBe(false);
  });

  it('sealChunkParts gives the ciphertext and the tag whose concatenation is the sealed chunk', () => {
    const plain = randomBytes(3000);
    const at = { transferId: tid, index: 9, final: false };
    const [body, tag] = sealChunkParts(key, at, plain);
    expect(body.length).toBe(3000);
    expect(tag.length).toBe(16);
    const joined = Buffer.concat([body, tag]);
    expect(joined.equals(Buffer.from(sealChunk(key, at, plain)))).toBe(true);
    expect(Buffer.from(openChunk(key, at, joined)).equals(plain)).toBe(true);
  });

  it('round-trips and matches a reference AES-256-GCM computation', () => {
    const plain = randomBytes(1000);
    const sealed = sealChunk(key, { transferId: tid, index: 5, final: true }, plain);
    expect(sealed.length).toBe(1016);
    expect(Buffer.from(openChunk(key, { transferId: tid, index: 5, final: true }, sealed))).toEqual(
      plain,
    );
    // the same with node:crypto directly, written out from the documented layout
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(5n, 4);
    const aad = Buffer.concat([
      Buffer.from('securechat-file-chunk-v1'),
      Buffer.from(tid),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 5, 1]),
    ]);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const expected = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    expect(Buffer.from(sealed)).toEqual(expected);
  });

  it('detects a tampered chunk, a moved/replayed chunk, a false final flag, another transfer and another key', () => {
    const at = { transferId: tid, index: 2, final: false };
    const sealed = sealChunk(key, at, Buffer.from('hello world'));
    const tampered = Buffer.from(sealed);
    tampered[0]! ^= 1;
    expect(codeOf(() => openChunk(key, at, tampered))).toBe(ErrorCode.DECRYPT_FAILED);
    expect(codeOf(() => openChunk(key, { ...at, index: 3 }, sealed))).toBe(
      ErrorCode.DECRYPT_FAILED,
    );
    expect(codeOf(() => openChunk(key, { ...at, final: true }, sealed))).toBe(
      ErrorCode.DECRYPT_FAILED,
    );
    const other = new Uint8Array(16).fill(4);
    expect(codeOf(() => openChunk(key, { ...at, transferId: other }, sealed))).toBe(
      ErrorCode.DECRYPT_FAILED,
    );
    expect(codeOf(() => openChunk(new Uint8Array(32), at, sealed))).toBe(ErrorCode.DECRYPT_FAILED);
    expect(codeOf(() => openChunk(key, at, sealed.subarray(0, 10)))).toBe(ErrorCode.DECRYPT_FAILED);
    expect(codeOf(() => openChunk(key, at, sealed.subarray(0, sealed.length - 4)))).toBe(
      ErrorCode.DECRYPT_FAILED,
    );
  });

  it('refuses wrong key and id lengths and impossible indices', () => {
    expect(
      codeOf(() =>
        sealChunk(new Uint8Array(16), { transferId: tid, index: 0, final: true }, new Uint8Array()),
      ),
    ).toBe(ErrorCode.BAD_KEY);
    expect(codeOf(() => chunkAad(new Uint8Array(8), 0, true))).toBe(ErrorCode.BAD_KEY);
    expect(codeOf(() => chunkNonce(-1))).toBe(ErrorCode.BAD_FIELD);
    expect(codeOf(() => chunkNonce(2 ** 31))).toBe(ErrorCode.BAD_FIELD);
  });

  it('keeps no plaintext run in the sealed bytes', () => {
    const plain = Buffer.alloc(FILE_CHUNK_BYTES, 'A');
    const sealed = Buffer.from(sealChunk(key, { transferId: tid, index: 0, final: true }, plain));
    expect(sealed.includes(Buffer.alloc(16, 'A'))).toBe(false);
    expect(createHash('sha256').update(sealed).digest('hex')).not.toBe(
      createHash('sha256').update(plain).digest('hex'),
    );
  });
});
