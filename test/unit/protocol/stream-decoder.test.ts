import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_BODY_RULE,
  ErrorCode,
  encodeFileChunkHeader,
  encodeFilePutHeader,
  LineDecoder,
  MAX_BINARY_BODY_BYTES,
  ProtocolError,
  PUT_BODY_RULE,
  RawBody,
  StreamDecoder,
  type StreamItem,
} from '../../../src/protocol/index.js';

const FILE = '0123456789abcdef0123456789abcdef';
const enc = (s: string) => Buffer.from(s, 'utf8');

/** What the decoder returned, comparable: lines as text, bodies as hex. */
function show(items: StreamItem[]): string[] {
  return items.map((item) =>
    item instanceof RawBody
      ? `body:${Buffer.from(item.bytes).toString('hex')}`
      : `line:${Buffer.from(item).toString('latin1')}`,
  );
}

function decodeAll(decoder: StreamDecoder, parts: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const part of parts) out.push(...show(decoder.push(part)));
  return out;
}

function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const point of [...at].sort((a, b) => a - b)) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** True when two views share bytes. */
function overlap(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

function fatalCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ProtocolError && error.fatal) return error.code;
    throw error;
  }
  return undefined;
}

describe('StreamDecoder (binary chunk mode framing)', () => {
  it('returns a header with exactly the bytes it announces, which are never read as lines', () => {
    const body = enc('{"type":"relay"}\n\n{"type":"fputb","len":999}\nrest');
    const stream = Buffer.concat([
      enc('{"type":"chat","text":"before"}\n'),
      enc(encodeFilePutHeader(FILE, 0, body.length)),
      body,
      enc('{"type":"chat","text":"after"}\n'),
    ]);
    const decoder = new StreamDecoder(1024);
    decoder.enableBodies(PUT_BODY_RULE);
    expect(decodeAll(decoder, [stream])).toEqual([
      'line:{"type":"chat","text":"before"}',
      `line:${encodeFilePutHeader(FILE, 0, body.length).trimEnd()}`,
      `body:${body.toString('hex')}`,
      'line:{"type":"chat","text":"after"}',
    ]);
  });

  it('gives the same items however the stream is cut (every single cut point)', () => {
    const body = Buffer.from([0x0a, 0x7b, 0x0d, 0x0a, 0x00, 0xff, 0x0a]);
    const header = encodeFilePutHeader(FILE, 3, body.length);
    const stream = Buffer.concat([
      enc('a\r\n'),
      enc(header),
      body,
      enc(`b\n${header}`),
      body,
      enc('\n\nc\n'),
    ]);
    const whole = new StreamDecoder(256);
    whole.enableBodies(PUT_BODY_RULE);
    const expected = decodeAll(whole, [stream]);
    expect(expected).toHaveLength(7);
    for (let at = 0; at <= stream.length; at++) {
      const decoder = new StreamDecoder(256);
      decoder.enableBodies(PUT_BODY_RULE);
      expect(decodeAll(decoder, cut(stream, [at]))).toEqual(expected);
    }
  });

  it.each([false, true])(
    'property: lines and bodies in any order and any cutting come back as sent (reuseBodies %s)',
    (reuseBodies) => {
      const item = fc.oneof(
        fc
          .string({ minLength: 1, maxLength: 40 })
          .filter(
            (s) => !s.includes('\n') && !s.includes('\r') && !s.startsWith('{"type":"fputb",'),
          )
          .map((text) => ({ kind: 'line' as const, text })),
        fc
          .uint8Array({ minLength: 0, maxLength: 64 })
          .map((bytes) => ({ kind: 'body' as const, bytes })),
      );
      fc.assert(
        fc.property(
          fc.array(item, { maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          (items, cuts) => {
            const parts: Buffer[] = [];
            const expected: string[] = [];
            for (const [k, it] of items.entries()) {
              if (it.kind === 'line') {
                parts.push(enc(`${it.text}\n`));
                expected.push(`line:${enc(it.text).toString('latin1')}`);
              } else {
                const header = encodeFilePutHeader(FILE, k, it.bytes.length);
                parts.push(enc(header), Buffer.from(it.bytes));
                expected.push(
                  `line:${header.trimEnd()}`,
                  `body:${Buffer.from(it.bytes).toString('hex')}`,
                );
              }
            }
            const stream = Buffer.concat(parts);
            const decoder = new StreamDecoder(1024);
            // (decodeAll reads each push's items before the next push: the reuse contract)
            decoder.enableBodies(PUT_BODY_RULE, { reuseBodies });
            const points = cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1)));
            expect(decodeAll(decoder, cut(stream, points))).toEqual(expected);
            expect(decoder.bufferedBytes).toBe(0);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('reuseBodies: bodies of later pushes share one buffer, two bodies of one push never do', () => {
    const body = (n: number, fill: number) => Buffer.alloc(n, fill);
    const frame = (i: number, b: Buffer) =>
      Buffer.concat([enc(encodeFilePutHeader(FILE, i, b.length)), b]);
    const bodiesOf = (items: StreamItem[]) =>
      items.filter((item): item is RawBody => item instanceof RawBody).map((item) => item.bytes);
    const reusing = new StreamDecoder(1024);
    reusing.enableBodies(PUT_BODY_RULE, { reuseBodies: true });
    const [first] = bodiesOf(reusing.push(frame(0, body(5000, 1))));
    expect(Buffer.from(first!)).toEqual(body(5000, 1));
    // the next push: a body cut across two pushes, then two bodies in one push
    const whole = Buffer.concat([
      frame(1, body(4500, 2)),
      frame(2, body(100, 3)),
      frame(3, body(50, 4)),
    ]);
    expect(bodiesOf(reusing.push(whole.subarray(0, 1000)))).toEqual([]);
    const [second, third, fourth] = bodiesOf(reusing.push(whole.subarray(1000)));
    expect(overlap(second!, first!)).toBe(true); // reused: no new buffer for it (over 4 KiB: not Node's pool)
    // same push: memory of their own (small buffers may share Node's pool, never bytes)
    expect(overlap(third!, second!)).toBe(false);
    expect(overlap(fourth!, second!)).toBe(false);
    expect(overlap(fourth!, third!)).toBe(false);
    expect([second, third, fourth].map((b) => Buffer.from(b!))).toEqual([
      body(4500, 2),
      body(100, 3),
      body(50, 4),
    ]);
    // without the option every body has its own buffer
    const fresh = new StreamDecoder(1024);
    fresh.enableBodies(PUT_BODY_RULE);
    const [a] = bodiesOf(fresh.push(frame(0, body(300, 1))));
    const [b] = bodiesOf(fresh.push(frame(1, body(300, 2))));
    expect(overlap(a!, b!)).toBe(false);
    expect(Buffer.from(a!)).toEqual(body(300, 1));
  });

  it('without bodies enabled, splits lines exactly as LineDecoder does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (bytes, cuts) => {
          const points = cuts.map((c) => c % (bytes.length + 1));
          const lines = new LineDecoder(64);
          const stream = new StreamDecoder(64);
          const a: string[] = [];
          const b: string[] = [];
          let aDead: string | undefined;
          let bDead: string | undefined;
          for (const part of cut(bytes, points)) {
            if (aDead === undefined)
              aDead = fatalCode(() => a.push(...show(lines.push(part)))) ?? aDead;
            if (bDead === undefined)
              bDead = fatalCode(() => b.push(...show(stream.push(part)))) ?? bDead;
          }
          expect(b).toEqual(a);
          expect(bDead).toBe(aDead);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('treats a header as an ordinary line until bodies are enabled (before negotiation)', () => {
    const decoder = new StreamDecoder(1024);
    const stream = enc(`${encodeFilePutHeader(FILE, 0, 16)}x\n`);
    expect(decodeAll(decoder, [stream])).toEqual([
      `line:${encodeFilePutHeader(FILE, 0, 16).trimEnd()}`,
      'line:x',
    ]);
  });

  it('refuses a length over the limit with a fatal E_BODY_TOO_LONG, the header not returned', () => {
    const decoder = new StreamDecoder(1024);
    decoder.enableBodies(PUT_BODY_RULE);
    const before = enc('{"type":"ping"}\n');
    const header = enc(encodeFilePutHeader(FILE, 0, MAX_BINARY_BODY_BYTES + 1));
    // the line completed before it is delivered; the error comes with the next push
    expect(show(decoder.push(Buffer.concat([before, header])))).toEqual(['line:{"type":"ping"}']);
    expect(decoder.dead).toBe(true);
    expect(fatalCode(() => decoder.push(enc('more\n')))).toBe(ErrorCode.BODY_TOO_LONG);
    const alone = new StreamDecoder(1024);
    alone.enableBodies(PUT_BODY_RULE);
    expect(fatalCode(() => alone.push(header))).toBe(ErrorCode.BODY_TOO_LONG);
  });

  it('refuses a header whose length cannot be read (fatal: the stream cannot go on)', () => {
    for (const bad of [
      '{"type":"fputb","len":-1}\n',
      '{"type":"fputb","len":"16"}\n',
      '{"type":"fputb","len":1.5}\n',
      '{"type":"fputb",}\n',
      '{"type":"fputb","file":"x"}\n',
    ]) {
      const decoder = new StreamDecoder(1024);
      decoder.enableBodies(PUT_BODY_RULE);
      expect(fatalCode(() => decoder.push(enc(bad)))).toBe(ErrorCode.BAD_FIELD);
    }
  });

  it('holds a short body without returning anything (the idle timeout ends it), bounded', () => {
    const decoder = new StreamDecoder(1024);
    decoder.enableBodies(CHUNK_BODY_RULE);
    const header = encodeFileChunkHeader(FILE, 0, 100);
    expect(decoder.push(enc(header))).toEqual([]);
    expect(decoder.push(new Uint8Array(99).fill(0x0a))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(header.length - 1 + 99);
    expect(show(decoder.push(Buffer.from([0x0a, 0x78, 0x0a])))).toEqual([
      `line:${header.trimEnd()}`,
      `body:${'0a'.repeat(100)}`,
      'line:x',
    ]);
  });

  it('returns an empty body at once, and the line cap still applies to headers', () => {
    const decoder = new StreamDecoder(1024);
    decoder.enableBodies(PUT_BODY_RULE);
    expect(show(decoder.push(enc(encodeFilePutHeader(FILE, 0, 0))))).toEqual([
      `line:${encodeFilePutHeader(FILE, 0, 0).trimEnd()}`,
      'body:',
    ]);
    const small = new StreamDecoder(20);
    small.enableBodies(PUT_BODY_RULE);
    expect(fatalCode(() => small.push(enc(encodeFilePutHeader(FILE, 0, 16))))).toBe(
      ErrorCode.FRAME_TOO_LONG,
    );
  });
});
