import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeJsonLine,
  encodeFrame,
  LineDecoder,
  MAX_FRAME_FIELDS,
  MAX_JSON_DEPTH,
  ProtocolError,
  parseClientFrame,
} from '../../../src/protocol/index.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (lines: Uint8Array[]) => lines.map((l) => new TextDecoder().decode(l));

/** Feeds `input` whole, byte by byte, and split at every offset; all must give `expected`. */
function byEverySplit(input: Uint8Array, expected: string[], max = 1024): void {
  const whole = new LineDecoder(max);
  expect(text(whole.push(input))).toEqual(expected);
  const single = new LineDecoder(max);
  const out: Uint8Array[] = [];
  for (let i = 0; i < input.length; i++) out.push(...single.push(input.subarray(i, i + 1)));
  expect(text(out)).toEqual(expected);
  for (let cut = 1; cut < input.length; cut++) {
    const split = new LineDecoder(max);
    const got = [...split.push(input.subarray(0, cut)), ...split.push(input.subarray(cut))];
    expect(text(got)).toEqual(expected);
  }
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('LineDecoder', () => {
  it.each([
    ['one line', 'a\n', ['a']],
    ['several lines in one chunk', 'a\nbb\nccc\n', ['a', 'bb', 'ccc']],
    ['CRLF', 'a\r\nb\r\n', ['a', 'b']],
    ['empty lines skipped', '\n\na\n\r\n\nb\n', ['a', 'b']],
    ['unfinished tail held back', 'a\nb', ['a']],
    ['two-byte UTF-8', 'é\n', ['é']],
    ['four-byte UTF-8 (emoji)', '{"text":"👋🏽"}\n', ['{"text":"👋🏽"}']],
  ])('%s: whole, byte by byte, and split at every offset', (_label, input, expected) => {
    byEverySplit(bytes(input), expected);
  });

  it('accepts a line exactly at the cap and refuses one byte more before its newline', () => {
    const ok = new LineDecoder(10);
    expect(text(ok.push(bytes(`${'x'.repeat(10)}\n`)))).toEqual(['x'.repeat(10)]);
    const early = new LineDecoder(10);
    expect(early.push(bytes('x'.repeat(10)))).toEqual([]);
    expect(codeOf(() => early.push(bytes('x')))).toBe('E_FRAME_TOO_LONG'); // no newline seen yet
  });

  it('is dead after a fatal error: every later push throws the same error', () => {
    const decoder = new LineDecoder(4);
    let first: unknown;
    try {
      decoder.push(bytes('12345'));
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(ProtocolError);
    expect((first as ProtocolError).fatal).toBe(true);
    expect(decoder.dead).toBe(true);
    expect(() => decoder.push(bytes('\nok\n'))).toThrow(first as Error);
  });

  it('counts the pending bytes across chunks towards the cap', () => {
    const decoder = new LineDecoder(8);
    decoder.push(bytes('1234'));
    decoder.push(bytes('5678'));
    expect(decoder.bufferedBytes).toBe(8);
    expect(codeOf(() => decoder.push(bytes('9')))).toBe('E_FRAME_TOO_LONG');
  });

  it('copies what it holds, so callers may reuse their buffers', () => {
    const decoder = new LineDecoder(64);
    const chunk = bytes('abc');
    decoder.push(chunk);
    chunk.fill(0x7a);
    expect(text(decoder.push(bytes('\n')))).toEqual(['abc']);
  });

  it('property: any frames, cut into any chunks, come out the same', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            type: fc.constantFrom('chat', 'list'),
            text: fc.string({ maxLength: 40, unit: 'grapheme' }),
          }),
          { maxLength: 10 },
        ),
        fc.array(fc.nat({ max: 64 }), { maxLength: 20 }),
        (frames, cuts) => {
          const all = new Uint8Array(frames.flatMap((f) => [...encodeFrame(f)]));
          const decoder = new LineDecoder(4096);
          const out: Uint8Array[] = [];
          let offset = 0;
          for (const cut of cuts) {
            const end = Math.min(all.length, offset + cut);
            out.push(...decoder.push(all.subarray(offset, end)));
            offset = end;
          }
          out.push(...decoder.push(all.subarray(offset)));
          expect(out.map((line) => decodeJsonLine(line))).toEqual(frames);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('decodeJsonLine', () => {
  it.each([
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]), 'E_BAD_UTF8'],
    ['overlong encoding', Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]), 'E_BAD_UTF8'],
    ['lone surrogate bytes', Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'E_BAD_UTF8'],
    ['not JSON', bytes('hello'), 'E_BAD_JSON'],
    ['truncated JSON', bytes('{"type":"chat"'), 'E_BAD_JSON'],
    ['array', bytes('[1,2]'), 'E_NOT_OBJECT'],
    ['string', bytes('"x"'), 'E_NOT_OBJECT'],
    ['number', bytes('42'), 'E_NOT_OBJECT'],
    ['null', bytes('null'), 'E_NOT_OBJECT'],
    [
      '__proto__ at the top',
      bytes('{"type":"list","__proto__":{"admin":true}}'),
      'E_FORBIDDEN_KEY',
    ],
    ['constructor nested', bytes('{"type":"list","x":{"constructor":{}}}'), 'E_FORBIDDEN_KEY'],
    [
      'prototype nested in an array',
      bytes('{"type":"list","x":[{"prototype":1}]}'),
      'E_FORBIDDEN_KEY',
    ],
    [
      'too many fields',
      bytes(`{${Array.from({ length: MAX_FRAME_FIELDS + 1 }, (_, i) => `"f${i}":1`).join(',')}}`),
      'E_JSON_TOO_COMPLEX',
    ],
    [
      'too deep',
      bytes(`{"x":${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}}`),
      'E_JSON_TOO_COMPLEX',
    ],
  ])('rejects %s', (_label, line, code) => {
    expect(codeOf(() => decodeJsonLine(line))).toBe(code);
  });

  it('survives 100,000 levels of nesting without overflowing the stack', () => {
    const deep = bytes(`{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(codeOf(() => decodeJsonLine(deep))).toBe('E_JSON_TOO_COMPLEX');
  });

  it('does not pollute prototypes', () => {
    expect(codeOf(() => decodeJsonLine(bytes('{"__proto__":{"polluted":1}}')))).toBe(
      'E_FORBIDDEN_KEY',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('property: arbitrary bytes never throw anything but a ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (garbage) => {
        const decoder = new LineDecoder(256);
        try {
          for (const line of decoder.push(garbage)) {
            try {
              parseClientFrame(decodeJsonLine(line));
            } catch (error) {
              expect(error).toBeInstanceOf(ProtocolError);
            }
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary JSON values never throw anything but a ProtocolError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        try {
          parseClientFrame(decodeJsonLine(bytes(JSON.stringify(value))));
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
