import { describe, expect, it } from 'vitest';
import {
  decodeJsonLine,
  decodePairwiseContent,
  decodeRoomContent,
  ErrorCode,
  encodeFileAck,
  encodeFileChunk,
  encodeFileOk,
  encodeFilePut,
  encodeFileState,
  encodePairwiseContent,
  encodeRoomContent,
  FILE_PUT_PREFIX,
  FILE_SEALED_CHUNK_BYTES,
  type FileContent,
  ProtocolError,
  parseClientFrame,
  parseServerFrame,
  sealedChunkLength,
  sealedSizeFits,
} from '../../../src/protocol/index.js';

const FILE = '0123456789abcdef0123456789abcdef';
const CAP = Buffer.alloc(32, 1).toString('base64');
const line = (text: string) => decodeJsonLine(Buffer.from(text.trimEnd()));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'other';
  }
  return undefined;
}

describe('file frames', () => {
  it('round-trips every server frame through parseServerFrame', () => {
    expect(parseServerFrame(line(encodeFileOk('m1', FILE, CAP)))).toEqual({
      type: 'fok',
      id: 'm1',
      file: FILE,
      cap: CAP,
    });
    expect(parseServerFrame(line(encodeFileAck(FILE, 3)))).toEqual({
      type: 'fack',
      file: FILE,
      have: 3,
    });
    expect(parseServerFrame(line(encodeFileState(FILE, 2, 5, false)))).toEqual({
      type: 'fstate',
      file: FILE,
      have: 2,
      chunks: 5,
      complete: false,
    });
    const data = Buffer.alloc(40, 9).toString('base64');
    expect(parseServerFrame(line(encodeFileChunk(FILE, 7, data)))).toEqual({
      type: 'fchunk',
      file: FILE,
      i: 7,
      sealed: Buffer.from(data, 'base64'),
    });
  });

  it('writes fput with the prefix the server budgets by, and reads it back', () => {
    const data = Buffer.alloc(FILE_SEALED_CHUNK_BYTES, 2).toString('base64');
    const put = encodeFilePut(FILE, 0, data);
    expect(put.startsWith(FILE_PUT_PREFIX)).toBe(true);
    expect(put.length).toBeLessThan(48 * 1024);
    expect(put).toBe(`${JSON.stringify({ type: 'fput', file: FILE, i: 0, data })}\n`);
    expect(parseClientFrame(line(put))).toEqual({
      type: 'fput',
      file: FILE,
      i: 0,
      sealed: Buffer.from(data, 'base64'),
    });
  });

  it('reads valid client frames', () => {
    expect(parseClientFrame({ type: 'fnew', id: 'a', bytes: 16, chunks: 1, to: 'bob' })).toEqual({
      type: 'fnew',
      id: 'a',
      bytes: 16,
      chunks: 1,
      to: 'bob',
    });
    expect(
      parseClientFrame({
        type: 'fnew',
        id: 'a',
        bytes: FILE_SEALED_CHUNK_BYTES + 17,
        chunks: 2,
        room: '#club',
      }),
    ).toMatchObject({ room: '#club', chunks: 2 });
    expect(parseClientFrame({ type: 'fget', file: FILE, cap: CAP, i: 0, n: 16 })).toMatchObject({
      n: 16,
    });
    expect(parseClientFrame({ type: 'fstat', file: FILE })).toEqual({ type: 'fstat', file: FILE });
    expect(parseClientFrame({ type: 'fdone', file: FILE, cap: CAP })).toMatchObject({
      type: 'fdone',
    });
    expect(parseClientFrame({ type: 'fdel', file: FILE })).toEqual({ type: 'fdel', file: FILE });
  });

  it.each([
    [{ type: 'fnew', bytes: 16, chunks: 1, to: 'bob' }],
    [{ type: 'fnew', id: 'a', bytes: 15, chunks: 1, to: 'bob' }],
    [{ type: 'fnew', id: 'a', bytes: FILE_SEALED_CHUNK_BYTES + 1, chunks: 1, to: 'bob' }],
    [{ type: 'fnew', id: 'a', bytes: 32, chunks: 2, to: 'bob' }],
    [{ type: 'fnew', id: 'a', bytes: 16, chunks: 0, to: 'bob' }],
    [{ type: 'fnew', id: 'a', bytes: 16, chunks: 1 }],
    [{ type: 'fnew', id: 'a', bytes: 16, chunks: 1, to: 'bob', room: '#x' }],
    [{ type: 'fnew', id: 'a', bytes: Number.POSITIVE_INFINITY, chunks: 1, to: 'bob' }],
    [{ type: 'fput', file: FILE.toUpperCase(), i: 0, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    [{ type: 'fput', file: '../etc', i: 0, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    [{ type: 'fput', file: FILE, i: -1, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    [{ type: 'fput', file: FILE, i: 2 ** 31, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    [{ type: 'fput', file: FILE, i: 0, data: 'AAAA' }],
    [{ type: 'fget', file: FILE, cap: CAP, i: 0, n: 0 }],
    [{ type: 'fget', file: FILE, cap: CAP, i: 0, n: 17 }],
    [{ type: 'fget', file: FILE, cap: 'AAAA', i: 0, n: 1 }],
    [{ type: 'fdone', file: FILE }],
  ])('refuses %j with E_BAD_FIELD', (frame) => {
    expect(codeOf(() => parseClientFrame(frame))).toBe(ErrorCode.BAD_FIELD);
  });

  it('checks sealed sizes against chunk counts', () => {
    expect(sealedSizeFits(16, 1)).toBe(true);
    expect(sealedSizeFits(FILE_SEALED_CHUNK_BYTES * 3, 3)).toBe(true);
    expect(sealedSizeFits(FILE_SEALED_CHUNK_BYTES * 2 + 15, 3)).toBe(false);
    expect(sealedChunkLength(FILE_SEALED_CHUNK_BYTES + 20, 2, 0)).toBe(FILE_SEALED_CHUNK_BYTES);
    expect(sealedChunkLength(FILE_SEALED_CHUNK_BYTES + 20, 2, 1)).toBe(20);
  });
});

describe('file descriptor content', () => {
  const offer: FileContent = {
    t: 'file',
    tid: 'ab'.repeat(16),
    file: FILE,
    cap: CAP,
    name: '../../.bashrc',
    size: 5,
    chunks: 1,
    mime: 'text/plain',
    key: Buffer.alloc(32, 5).toString('base64'),
    digest: Buffer.alloc(32, 6).toString('base64'),
    ts: 1_700_000_000_000,
  };

  it('travels in pairwise and room content', () => {
    expect(decodePairwiseContent(encodePairwiseContent(offer))).toEqual(offer);
    expect(decodeRoomContent(encodeRoomContent(offer))).toEqual(offer);
  });

  it('drops unknown fields and replaces an odd media type', () => {
    const odd = { ...offer, mime: 'text/plain\u001b]52;', extra: 1, __proto__: { x: 1 } };
    const read = decodePairwiseContent(JSON.stringify(odd));
    expect(read).toEqual({ ...offer, mime: 'application/octet-stream' });
    expect(Object.hasOwn(read, 'extra')).toBe(false);
  });

  it.each([
    ['tid', 'zz'],
    ['file', 'x'],
    ['cap', 'AAAA'],
    ['name', 'x'.repeat(20_000)],
    ['name', 5],
    ['size', -1],
    ['size', 1.5],
    ['chunks', 2],
    ['key', 'AAAA'],
    ['digest', undefined],
  ])('refuses an offer with a bad %s', (field, value) => {
    const bad = JSON.stringify({ ...offer, [field]: value });
    expect(codeOf(() => decodePairwiseContent(bad))).toBe(ErrorCode.BAD_FIELD);
    expect(codeOf(() => decodeRoomContent(Buffer.from(bad)))).toBe(ErrorCode.BAD_FIELD);
  });
});
