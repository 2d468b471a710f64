import { describe, expect, it } from 'vitest';
import {
  chunkBytesOf,
  chunkCount,
  chunkPlainLength,
  decodeJsonLine,
  decodePairwiseContent,
  ErrorCode,
  encodePairwiseContent,
  FILE_BINARY_CHUNK_BYTES,
  FILE_CHUNK_BYTES,
  type FileContent,
  isValidChunkBytes,
  MAX_BINARY_BODY_BYTES,
  MAX_FILE_CHUNK_BYTES,
  maxGetChunks,
  ProtocolError,
  parseClientFrame,
  parseServerFrame,
  sealedChunkLength,
  sealedSizeFits,
} from '../../../src/protocol/index.js';

const FILE = '0123456789abcdef0123456789abcdef';
const CAP = Buffer.alloc(32, 1).toString('base64');
const CS = FILE_BINARY_CHUNK_BYTES;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'other';
  }
  return undefined;
}
const client = (frame: object) =>
  parseClientFrame(decodeJsonLine(Buffer.from(JSON.stringify(frame))));

describe('chunk sizes (binary mode)', () => {
  it('takes powers of two from 32 KiB to 1 MiB, nothing else', () => {
    for (const ok of [FILE_CHUNK_BYTES, 64 * 1024, CS, MAX_FILE_CHUNK_BYTES])
      expect(isValidChunkBytes(ok)).toBe(true);
    for (const bad of [
      0,
      16 * 1024,
      300_000,
      2 * MAX_FILE_CHUNK_BYTES,
      2 ** 40,
      65536.5,
      -CS,
      '262144',
      null,
    ])
      expect(isValidChunkBytes(bad)).toBe(false);
    // the binary body limit is one sealed chunk of the largest size: all a client can make
    // the server (or a server the client) buffer for one chunk
    expect(MAX_BINARY_BODY_BYTES).toBe(MAX_FILE_CHUNK_BYTES + 16);
  });

  it('bounds an fget in bytes: 16 chunks of 32 KiB, 2 of 256 KiB, 1 of 1 MiB', () => {
    expect(maxGetChunks(FILE_CHUNK_BYTES)).toBe(16);
    expect(maxGetChunks(CS)).toBe(2);
    expect(maxGetChunks(MAX_FILE_CHUNK_BYTES)).toBe(1);
  });

  it('computes sealed lengths and sizes from the chunk size', () => {
    const size = 3 * CS + 123;
    const chunks = chunkCount(size, CS);
    expect(chunks).toBe(4);
    expect(chunkPlainLength(size, 3, CS)).toBe(123);
    const bytes = size + 16 * chunks;
    expect(sealedSizeFits(bytes, chunks, CS + 16)).toBe(true);
    // the same bytes do not fit 32 KiB chunks: the server checks against the announced size
    expect(sealedSizeFits(bytes, chunks)).toBe(false);
    expect(sealedChunkLength(bytes, chunks, 0, CS + 16)).toBe(CS + 16);
    expect(sealedChunkLength(bytes, chunks, 3, CS + 16)).toBe(123 + 16);
  });

  describe('fnew cs', () => {
    const base = { type: 'fnew', id: 'n1', to: 'bob' };
    it('reads an announced chunk size; 32 KiB or none means the old size', () => {
      const size = 3 * CS + 123;
      expect(client({ ...base, bytes: size + 64, chunks: 4, cs: CS })).toMatchObject({ cs: CS });
      const old = client({ ...base, bytes: 40 + 16, chunks: 1 });
      expect(old).not.toHaveProperty('cs');
      expect(client({ ...base, bytes: 56, chunks: 1, cs: FILE_CHUNK_BYTES })).not.toHaveProperty(
        'cs',
      );
    });
    it.each([
      ['over 1 MiB', 2 * MAX_FILE_CHUNK_BYTES],
      ['hostile huge', 2 ** 52],
      ['not a power of two', 300_000],
      ['under 32 KiB', 1024],
      ['a string', '262144'],
    ])('refuses a chunk size %s with E_BAD_FIELD', (_what, cs) => {
      expect(codeOf(() => client({ ...base, bytes: 56, chunks: 1, cs }))).toBe(ErrorCode.BAD_FIELD);
    });
    it('refuses sizes that do not match the announced chunk size', () => {
      // four chunks of 32 KiB do not make 3 × 256 KiB + 123 bytes
      expect(codeOf(() => client({ ...base, bytes: 3 * CS + 123 + 64, chunks: 4 }))).toBe(
        ErrorCode.BAD_FIELD,
      );
    });
  });

  describe('descriptor cs', () => {
    const offer: FileContent = {
      t: 'file',
      tid: 'ab'.repeat(16),
      file: FILE,
      cap: CAP,
      name: 'big.bin',
      size: 3 * CS + 123,
      chunks: 4,
      cs: CS,
      mime: 'application/octet-stream',
      key: Buffer.alloc(32, 5).toString('base64'),
      digest: Buffer.alloc(32, 6).toString('base64'),
    };
    it('travels end to end and sets the chunk count recipients expect', () => {
      const read = decodePairwiseContent(encodePairwiseContent(offer)) as FileContent;
      expect(read).toEqual(offer);
      expect(chunkBytesOf(read)).toBe(CS);
    });
    it('absent means 32 KiB (older senders)', () => {
      const { cs: _cs, ...old } = offer;
      const size = 3 * FILE_CHUNK_BYTES + 1;
      const read = decodePairwiseContent(
        encodePairwiseContent({ ...old, size, chunks: 4 } as FileContent),
      ) as FileContent;
      expect(read).not.toHaveProperty('cs');
      expect(chunkBytesOf(read)).toBe(FILE_CHUNK_BYTES);
    });
    it('refuses a hostile chunk size or a count that does not match it', () => {
      for (const cs of [2 * MAX_FILE_CHUNK_BYTES, 1000, 'x'])
        expect(codeOf(() => decodePairwiseContent(JSON.stringify({ ...offer, cs })))).toBe(
          ErrorCode.BAD_FIELD,
        );
      expect(codeOf(() => decodePairwiseContent(JSON.stringify({ ...offer, chunks: 5 })))).toBe(
        ErrorCode.BAD_FIELD,
      );
      // an old reader (no cs) would count 25 chunks: the count binds the chunk size
      const { cs: _cs, ...noCs } = offer;
      expect(codeOf(() => decodePairwiseContent(JSON.stringify(noCs)))).toBe(ErrorCode.BAD_FIELD);
    });
  });

  it('reads maxchunk from a welcome only when it is a valid chunk size', () => {
    const welcome = (maxchunk: unknown) =>
      parseServerFrame({ type: 'welcome', v: 2, caps: ['files', 'fbin'], users: {}, maxchunk });
    expect(welcome(MAX_FILE_CHUNK_BYTES)).toMatchObject({ maxchunk: MAX_FILE_CHUNK_BYTES });
    expect(welcome(2 ** 40)).not.toHaveProperty('maxchunk');
    expect(welcome(12345)).not.toHaveProperty('maxchunk');
  });
});
