import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LINE_BYTES,
  decodeJsonLine,
  deriveV1Key,
  encodeFrame,
  generateX25519KeyPair,
  isValidName,
  LineDecoder,
  openV1,
  ProtocolError,
  parseClientFrame,
  parseServerFrame,
  sealV1,
} from '../../../src/protocol/index.js';
import { decodeChunks, utf8 } from './helpers.js';

// Property tests of the protocol core. numRuns stays at or below 200 so the default suite
// stays fast; raise them locally (or in the slow suite) when hunting.

const b64 = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/).filter(isValidName);
/** Any text a user may type, including what JSON must escape and lone surrogates. */
const chatText = fc.string({
  maxLength: 60,
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('\n', '\r', '"', '\\', '\u2028', '\u0000', '\u001b', '\ud800', '\udfff'),
  ),
});

/** Valid client frames, in the shape parseClientFrame returns them. */
const clientFrame = fc.oneof(
  fc.record({ type: fc.constant('hello'), user: name, pub: b64(32, 32) }),
  fc.constant({ type: 'list' }),
  fc.constant({ type: 'ping' }),
  fc.record({ type: fc.constant('chat'), text: chatText }),
  fc.record(
    {
      type: fc.constant('relay'),
      to: name,
      alg: fc.constantFrom('X25519+AESGCM', 'X3DH+DR'),
      nonce: b64(12, 12),
      cipher: b64(16, 100),
      id: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      header: b64(1, 80),
    },
    { requiredKeys: ['type', 'to', 'alg', 'nonce', 'cipher'] },
  ),
);

/** Splits `bytes` at the given (arbitrary) cut sizes, keeping empty chunks. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const cut of cuts) {
    const end = Math.min(bytes.length, offset + cut);
    chunks.push(bytes.subarray(offset, end));
    offset = end;
  }
  chunks.push(bytes.subarray(offset));
  return chunks;
}

const cuts = fc.array(fc.nat({ max: 80 }), { maxLength: 30 });

describe('property (a): encoded frames, cut anywhere, decode to the same frames', () => {
  it('encodeFrame → concatenate → arbitrary chunks → LineDecoder → decodeJsonLine → parseClientFrame', () => {
    fc.assert(
      fc.property(fc.array(clientFrame, { maxLength: 12 }), cuts, (frames, cutSizes) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const decoder = new LineDecoder(DEFAULT_MAX_LINE_BYTES);
        const lines = chunked(stream, cutSizes).flatMap((chunk) => decoder.push(chunk));
        const decoded = lines.map((line) => decodeJsonLine(line));
        expect(decoded).toEqual(frames);
        expect(decoded.map((f) => parseClientFrame(f))).toEqual(
          frames.map((f) => parseClientFrame(f)),
        );
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

/** Any line a peer might send: valid frames, JSON of any shape, junk, and over-long lines. */
const anyLine = fc.oneof(
  clientFrame.map((f) => JSON.stringify(f)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .dictionary(
      fc.constantFrom(
        'type',
        'user',
        'pub',
        'to',
        'alg',
        'nonce',
        'cipher',
        'text',
        'id',
        'v',
        'caps',
        '__proto__',
      ),
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('hello', 'relay', 'chat', 'list', 'welcome', 'error'),
        b64(0, 40),
        name,
      ),
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constant('x'.repeat(300)),
);

describe('property (b): hostile input never throws anything but a ProtocolError', () => {
  /** Runs input through the whole inbound path; anything but a ProtocolError fails. */
  function inbound(chunks: Uint8Array[], maxLineBytes: number): void {
    const decoder = new LineDecoder(maxLineBytes);
    for (const chunk of chunks) {
      let lines: Uint8Array[];
      try {
        lines = decoder.push(chunk);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).fatal).toBe(true);
        continue;
      }
      for (const line of lines) {
        let frame: Record<string, unknown>;
        try {
          frame = decodeJsonLine(line);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          continue;
        }
        for (const parse of [parseClientFrame, parseServerFrame]) {
          try {
            parse(frame);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            expect((error as ProtocolError).fatal).toBe(false);
          }
        }
      }
    }
  }

  it('arbitrary bytes, in arbitrary chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), cuts, (bytes, cutSizes) => {
        inbound(chunked(bytes, cutSizes), 256);
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary strings and lines (valid, malformed, hostile), in arbitrary chunks', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 10 }), cuts, (lines, cutSizes) => {
        inbound(chunked(utf8(lines.join('\n')), cutSizes), 256);
        inbound(chunked(utf8(`${lines.join('\r\n')}\n`), cutSizes), DEFAULT_MAX_LINE_BYTES);
      }),
      { numRuns: 200 },
    );
  });

  it('the decoded stream does not depend on how it was cut, errors included', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 10 }), cuts, (lines, cutSizes) => {
        const stream = utf8(`${lines.join('\n')}\n`);
        expect(decodeChunks(chunked(stream, cutSizes), 256)).toEqual(decodeChunks([stream], 256));
      }),
      { numRuns: 200 },
    );
  });
});

describe('property (c): sealV1 then openV1 returns the text', () => {
  const alice = generateX25519KeyPair();
  const bob = generateX25519KeyPair();
  const aliceKey = deriveV1Key(alice.secretKey, bob.publicKey);
  const bobKey = deriveV1Key(bob.secretKey, alice.publicKey);

  it('for any well-formed string (ASCII, any code point, graphemes)', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
    );
    fc.assert(
      fc.property(text, (message) => {
        const envelope = sealV1(aliceKey, message);
        expect(openV1(bobKey, JSON.parse(JSON.stringify(envelope)))).toBe(message);
      }),
      { numRuns: 200 },
    );
  });

  it('for fresh key pairs on both sides', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (message) => {
        const a = generateX25519KeyPair();
        const b = generateX25519KeyPair();
        const envelope = sealV1(deriveV1Key(a.secretKey, b.publicKey), message);
        expect(openV1(deriveV1Key(b.secretKey, a.publicKey), envelope)).toBe(message);
      }),
      { numRuns: 25 },
    );
  });
});
