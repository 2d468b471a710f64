import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64DecodedLength,
  fromBase64,
  ProtocolError,
  parseClientFrame,
  toBase64,
} from '../../../src/protocol/index.js';
import { codeOf } from './helpers.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

describe('base64DecodedLength (RFC 4648 §4, standard alphabet, padded)', () => {
  it.each([
    ['', 0],
    ['AA==', 1],
    ['AAA=', 2],
    ['AAAA', 3],
    ['AAAAAA==', 4],
    ['+/+/', 3],
    ['AAA', -1],
    ['A', -1],
    ['A===', -1],
    ['====', -1],
    ['AA=A', -1],
    ['A=A=', -1],
    ['AA==AA==', -1],
    ['AA-_', -1],
    ['AA\nA', -1],
    ['AA A', -1],
    ['AAé=', -1],
    ['AA\u0000=', -1],
  ])('%j → %i', (text, length) => {
    expect(base64DecodedLength(text)).toBe(length);
  });
});

describe('fromBase64', () => {
  it.each([
    ['AA==', [0]],
    ['AAE=', [0, 1]],
    ['AP8=', [0, 255]],
    ['////', [255, 255, 255]],
    ['', []],
  ])('decodes %j', (text, bytes) => {
    expect(fromBase64(text, 'x')).toEqual(Uint8Array.from(bytes));
  });

  it.each([
    ['AB== (non-zero bits after the last byte)', 'AB=='],
    ['AP== ', 'AP=='],
    ['AAB= (non-zero bits after the last byte)', 'AAB='],
    ['AA/=', 'AA/='],
    ['unpadded', 'AA'],
    ['URL-safe alphabet', '-_-_'],
    ['padding in the middle', 'AA==AA=='],
    ['whitespace', 'AA AA==='],
  ])('refuses %s (E_BAD_FIELD)', (_label, text) => {
    expect(codeOf(() => fromBase64(text, 'x'))).toBe('E_BAD_FIELD');
  });

  it('checks the decoded length when one is required', () => {
    expect(fromBase64(toBase64(new Uint8Array(12)), 'nonce', 12)).toHaveLength(12);
    expect(codeOf(() => fromBase64(toBase64(new Uint8Array(11)), 'nonce', 12))).toBe('E_BAD_FIELD');
    expect(codeOf(() => fromBase64(toBase64(new Uint8Array(13)), 'nonce', 12))).toBe('E_BAD_FIELD');
  });

  it('property: toBase64 then fromBase64 is the identity, and the length is known up front', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64DecodedLength(text)).toBe(bytes.length);
        expect(fromBase64(text, 'x', bytes.length)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('property: exactly one encoding of any bytes is accepted', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((b) => b.length % 3 !== 0),
        (bytes) => {
          const canonical = toBase64(bytes);
          const last = canonical.replace(/=+$/, '').length - 1;
          for (const c of ALPHABET) {
            const variant = canonical.slice(0, last) + c + canonical.slice(last + 1);
            if (variant === canonical) continue;
            // Node's own decoder ignores the spare low bits of the last character: we must not.
            const lenient = Uint8Array.from(Buffer.from(variant, 'base64'));
            if (toBase64(lenient) === variant) {
              expect(fromBase64(variant, 'x')).toEqual(lenient);
              expect(lenient).not.toEqual(bytes);
            } else {
              expect(codeOf(() => fromBase64(variant, 'x'))).toBe('E_BAD_FIELD');
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the server-side length check refuses non-canonical encodings too (same answer as clients)', () => {
    const pub = toBase64(new Uint8Array(32).fill(1)); // 32 bytes: one "=", 2 spare bits
    expect(pub.endsWith('E=')).toBe(true);
    const sloppy = `${pub.slice(0, -2)}F=`; // spare bits set: decodes to the same bytes in Node
    expect(Buffer.from(sloppy, 'base64')).toEqual(Buffer.from(pub, 'base64'));
    expect(base64DecodedLength(pub)).toBe(32);
    expect(base64DecodedLength(sloppy)).toBe(-1);
    expect(base64DecodedLength('QQ==')).toBe(1);
    expect(base64DecodedLength('QR==')).toBe(-1);
    expect(() => parseClientFrame({ type: 'hello', user: 'alice', pub: sloppy })).toThrow(/Base64/);
    expect(parseClientFrame({ type: 'hello', user: 'alice', pub })).toMatchObject({ pub });
  });

  it('property: any string is either decoded or refused with a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 24 }), fc.stringMatching(/^[A-Za-z0-9+/=]{0,24}$/)),
        (text) => {
          const length = base64DecodedLength(text);
          try {
            const bytes = fromBase64(text, 'x');
            expect(bytes.length).toBe(length);
            expect(toBase64(bytes)).toBe(text);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
