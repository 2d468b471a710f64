import { describe, expect, it } from 'vitest';
import {
  decodeJsonLine,
  encodeFrame,
  encodeFrameText,
  LineDecoder,
  MAX_FRAME_FIELDS,
  MAX_JSON_DEPTH,
  MAX_JSON_NODES,
  ProtocolError,
} from '../../../src/protocol/index.js';
import { codeOf, decodeChunks, type Transcript, utf8 } from './helpers.js';

/**
 * nats' byByteTest: feeds `input` whole, byte by byte, split in two at every offset (empty
 * chunks included) and, for short inputs, in three at every pair of offsets. Every way must
 * give the same transcript, which is returned for the caller's own assertions.
 */
function decodeEveryWay(input: Uint8Array, maxLineBytes = 1024): Transcript {
  const whole = decodeChunks([input], maxLineBytes);
  const bytes = Array.from(input, (_, i) => input.subarray(i, i + 1));
  expect(decodeChunks(bytes, maxLineBytes)).toEqual(whole);
  for (let cut = 0; cut <= input.length; cut++) {
    const parts = [input.subarray(0, cut), input.subarray(cut)];
    expect(decodeChunks(parts, maxLineBytes)).toEqual(whole);
  }
  if (input.length <= 48) {
    for (let a = 1; a < input.length; a++) {
      for (let b = a + 1; b < input.length; b++) {
        const parts = [input.subarray(0, a), input.subarray(a, b), input.subarray(b)];
        expect(decodeChunks(parts, maxLineBytes)).toEqual(whole);
      }
    }
  }
  return whole;
}

const lineTexts = (t: Transcript) => t.lines.map((l) => Buffer.from(l, 'hex').toString('utf8'));
const concat = (...parts: Array<string | Uint8Array>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? utf8(p) : p)));

describe('LineDecoder + decodeJsonLine: whole, byte by byte, and split at every offset', () => {
  it.each([
    ['one frame', '{"type":"list"}\n', [{ type: 'list' }]],
    [
      'several frames in one chunk',
      '{"type":"list"}\n{"type":"chat","text":"hi"}\n{"type":"ping"}\n',
      [{ type: 'list' }, { type: 'chat', text: 'hi' }, { type: 'ping' }],
    ],
    [
      'CRLF line ends',
      '{"type":"list"}\r\n{"type":"ping"}\r\n',
      [{ type: 'list' }, { type: 'ping' }],
    ],
    ['empty lines skipped', '\n\r\n{"type":"list"}\n\n\r\n\n', [{ type: 'list' }]],
    ['two-byte UTF-8 (é)', '{"text":"café"}\n', [{ text: 'café' }]],
    ['three-byte UTF-8 (✓, €)', '{"text":"✓€"}\n', [{ text: '✓€' }]],
    ['four-byte UTF-8 (emoji, skin tone)', '{"text":"👋🏽"}\n', [{ text: '👋🏽' }]],
    ['unfinished tail held back', '{"a":1}\n{"b":', [{ a: 1 }]],
    [
      'bad lines are reported one by one and the stream goes on',
      '{"a":1}\nhello\n[1]\n{"__proto__":{}}\n{"b":2}\n',
      [
        { a: 1 },
        { error: 'E_BAD_JSON' },
        { error: 'E_NOT_OBJECT' },
        { error: 'E_FORBIDDEN_KEY' },
        { b: 2 },
      ],
    ],
  ])('%s', (_label, input, frames) => {
    const transcript = decodeEveryWay(utf8(input));
    expect(transcript.frames).toEqual(frames);
    expect(transcript.fatal).toBeUndefined();
  });

  it('invalid UTF-8 in one line is E_BAD_UTF8 for that line only', () => {
    const input = concat('{"t":"', Uint8Array.of(0xc3, 0x28), '"}\n{"t":"ok"}\n');
    const transcript = decodeEveryWay(input);
    expect(transcript.frames).toEqual([{ error: 'E_BAD_UTF8' }, { t: 'ok' }]);
  });

  it('a multi-byte character split at every offset decodes to the same text', () => {
    const transcript = decodeEveryWay(utf8('{"text":"é👋€"}\n'));
    expect(lineTexts(transcript)).toEqual(['{"text":"é👋€"}']);
  });

  const atCap = '{"text":"xxxxx"}'; // 16 bytes
  it('accepts a line of exactly the cap (16 bytes here)', () => {
    expect(utf8(atCap)).toHaveLength(16);
    const transcript = decodeEveryWay(utf8(`${atCap}\n${atCap}`), 16);
    expect(transcript.frames).toEqual([{ text: 'xxxxx' }]);
    expect(transcript.fatal).toBeUndefined();
  });

  it.each([
    ['one byte over, newline never sent', `{"a":1}\n{"text":"xxxxxxx"`],
    ['one byte over, then a newline and more frames', `{"a":1}\n{"text":"xxxxxx"}\n{"b":2}\n`],
    ['the cap counts the \\r of CRLF', `{"a":1}\n${atCap}\r\n{"b":2}\n`],
    ['the cap counts bytes, not characters', `{"a":1}\n{"text":"xxxxé"}\n`],
  ])('%s: frames before it, then fatal E_FRAME_TOO_LONG', (_label, input) => {
    const transcript = decodeEveryWay(utf8(input), 16);
    expect(transcript.frames).toEqual([{ a: 1 }]);
    expect(transcript.fatal).toBe('E_FRAME_TOO_LONG');
  });
});

describe('LineDecoder limits and lifecycle', () => {
  it('refuses one byte over the cap before the newline arrives', () => {
    const decoder = new LineDecoder(10);
    expect(decoder.push(utf8('x'.repeat(10)))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(10);
    expect(codeOf(() => decoder.push(utf8('x')))).toBe('E_FRAME_TOO_LONG');
  });

  it('refuses a huge chunk without a newline at once, holding nothing', () => {
    const decoder = new LineDecoder(1024);
    expect(codeOf(() => decoder.push(new Uint8Array(10 * 1024 * 1024).fill(0x61)))).toBe(
      'E_FRAME_TOO_LONG',
    );
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('is dead after the fatal error: every later push throws the same fatal error', () => {
    const decoder = new LineDecoder(4);
    let first: unknown;
    try {
      decoder.push(utf8('12345'));
    } catch (error) {
      first = error;
    }
    expect(first).toBeInstanceOf(ProtocolError);
    expect((first as ProtocolError).fatal).toBe(true);
    expect(decoder.dead).toBe(true);
    for (const chunk of ['\n', 'ok\n', '', '{"type":"list"}\n']) {
      expect(() => decoder.push(utf8(chunk))).toThrow(first as Error);
    }
  });

  it('hands over the frames completed in the chunk that overflows, then throws', () => {
    const decoder = new LineDecoder(8);
    const lines = decoder.push(utf8('{"a":1}\n123456789'));
    expect(lines.map((l) => decodeJsonLine(l))).toEqual([{ a: 1 }]);
    expect(decoder.dead).toBe(true);
    expect(codeOf(() => decoder.push(new Uint8Array(0)))).toBe('E_FRAME_TOO_LONG');
  });

  it('counts the pending bytes across chunks towards the cap', () => {
    const decoder = new LineDecoder(8);
    decoder.push(utf8('1234'));
    decoder.push(utf8('5678'));
    expect(decoder.bufferedBytes).toBe(8);
    expect(codeOf(() => decoder.push(utf8('9')))).toBe('E_FRAME_TOO_LONG');
  });

  it('copies what it holds, so callers may reuse their buffers', () => {
    const decoder = new LineDecoder(64);
    const chunk = utf8('abc');
    decoder.push(chunk);
    chunk.fill(0x7a);
    expect(decoder.push(utf8('\n')).map((l) => Buffer.from(l).toString())).toEqual(['abc']);
  });

  it('refuses a cap that is not a positive integer', () => {
    for (const cap of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new LineDecoder(cap)).toThrow(RangeError);
    }
  });
});

const nested = (depth: number, open: string, close: string, inner = '1') =>
  `{"x":${open.repeat(depth - 1)}${inner}${close.repeat(depth - 1)}}`;

describe('decodeJsonLine', () => {
  it.each([
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]), 'E_BAD_UTF8'],
    ['overlong encoding of "/"', Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]), 'E_BAD_UTF8'],
    ['UTF-8 encoded surrogate', Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]), 'E_BAD_UTF8'],
    ['truncated UTF-8 sequence', Uint8Array.from([0x22, 0xf0, 0x9f, 0x91, 0x22]), 'E_BAD_UTF8'],
    ['Latin-1 byte', Uint8Array.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]), 'E_BAD_UTF8'],
    ['not JSON', utf8('hello'), 'E_BAD_JSON'],
    ['truncated JSON', utf8('{"type":"chat"'), 'E_BAD_JSON'],
    ['two objects on one line', utf8('{}{}'), 'E_BAD_JSON'],
    ['byte order mark', utf8('\ufeff{}'), 'E_BAD_JSON'],
    ['single quotes', utf8("{'a':1}"), 'E_BAD_JSON'],
    ['array', utf8('[1,2]'), 'E_NOT_OBJECT'],
    ['string', utf8('"x"'), 'E_NOT_OBJECT'],
    ['number', utf8('42'), 'E_NOT_OBJECT'],
    ['true', utf8('true'), 'E_NOT_OBJECT'],
    ['null', utf8('null'), 'E_NOT_OBJECT'],
    [
      `${MAX_FRAME_FIELDS + 1} fields`,
      utf8(`{${Array.from({ length: MAX_FRAME_FIELDS + 1 }, (_, i) => `"f${i}":1`).join(',')}}`),
      'E_JSON_TOO_COMPLEX',
    ],
    [
      `depth ${MAX_JSON_DEPTH + 1} (arrays)`,
      utf8(nested(MAX_JSON_DEPTH + 1, '[', ']')),
      'E_JSON_TOO_COMPLEX',
    ],
    [
      `depth ${MAX_JSON_DEPTH + 1} (objects)`,
      utf8(nested(MAX_JSON_DEPTH + 1, '{"y":', '}')),
      'E_JSON_TOO_COMPLEX',
    ],
    [
      `${MAX_JSON_NODES + 1} values`,
      utf8(`{"x":[${'0,'.repeat(MAX_JSON_NODES - 1)}0]}`),
      'E_JSON_TOO_COMPLEX',
    ],
  ])('rejects %s', (_label, line, code) => {
    expect(codeOf(() => decodeJsonLine(line))).toBe(code);
  });

  it('accepts frames at exactly each structural limit', () => {
    const fields = `{${Array.from({ length: MAX_FRAME_FIELDS }, (_, i) => `"f${i}":1`).join(',')}}`;
    expect(Object.keys(decodeJsonLine(utf8(fields)))).toHaveLength(MAX_FRAME_FIELDS);
    expect(decodeJsonLine(utf8(nested(MAX_JSON_DEPTH, '[', ']')))).toBeTypeOf('object');
    expect(decodeJsonLine(utf8(nested(MAX_JSON_DEPTH, '{"y":', '}')))).toBeTypeOf('object');
    // one top-level field plus MAX_JSON_NODES - 1 array elements
    const wide = decodeJsonLine(utf8(`{"x":[${'0,'.repeat(MAX_JSON_NODES - 2)}0]}`));
    expect((wide.x as unknown[]).length).toBe(MAX_JSON_NODES - 1);
  });

  it.each([
    ['arrays', '[', ']'],
    ['objects', '{"a":', '}'],
  ])('survives 100,000 levels of nested %s without overflowing the stack', (_l, open, close) => {
    const deep = utf8(nested(100_000, open, close));
    expect(codeOf(() => decodeJsonLine(deep))).toBe('E_JSON_TOO_COMPLEX');
  });

  it.each([
    ['__proto__ at the top', '{"type":"list","__proto__":{"admin":true}}'],
    ['constructor at the top', '{"type":"list","constructor":1}'],
    ['prototype at the top', '{"prototype":null,"type":"list"}'],
    ['__proto__ nested', '{"type":"list","x":{"y":{"__proto__":{}}}}'],
    ['constructor nested', '{"type":"list","x":{"constructor":{}}}'],
    ['prototype nested in an array', '{"type":"list","x":[1,{"prototype":1}]}'],
    ['__proto__ spelled with an escape', '{"\\u005f_proto__":{"admin":true}}'],
  ])('rejects %s (E_FORBIDDEN_KEY)', (_label, line) => {
    expect(codeOf(() => decodeJsonLine(utf8(line)))).toBe('E_FORBIDDEN_KEY');
  });

  it('accepts keys that only look like the forbidden ones', () => {
    const frame = decodeJsonLine(
      utf8('{"proto":1,"constructors":2,"Prototype":3,"x":["__proto__"]}'),
    );
    expect(frame).toEqual({ proto: 1, constructors: 2, Prototype: 3, x: ['__proto__'] });
  });

  it('does not pollute prototypes', () => {
    expect(codeOf(() => decodeJsonLine(utf8('{"__proto__":{"polluted":1}}')))).toBe(
      'E_FORBIDDEN_KEY',
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads an ASCII line and a UTF-8 line the same way', () => {
    expect(decodeJsonLine(utf8('{"t":"\\u00e9"}'))).toEqual(decodeJsonLine(utf8('{"t":"é"}')));
  });
});

describe('encodeFrame', () => {
  it('writes one line of JSON that decodes back, text and bytes alike', () => {
    const frame = { type: 'chat', text: 'line\nbreak "quoted" é 👋 \u2028' };
    const bytes = encodeFrame(frame);
    expect(bytes.at(-1)).toBe(0x0a);
    expect(bytes.subarray(0, -1).includes(0x0a)).toBe(false);
    expect(Buffer.from(bytes).toString('utf8')).toBe(encodeFrameText(frame));
    expect(decodeJsonLine(bytes.subarray(0, -1))).toEqual(frame);
  });
});
