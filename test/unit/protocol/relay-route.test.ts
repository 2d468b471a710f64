import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EncodedRelay,
  encodeRelayDelivery,
  type RelayFrame,
  readCanonicalRelay,
} from '../../../src/protocol/index.js';
import { delivered, fastMatchesSlow, relayLine, slowPath } from './relay-lines.js';

const NONCE = Buffer.alloc(12, 1).toString('base64');
const CIPHER = Buffer.alloc(17, 2).toString('base64'); // 17 bytes: padding "=="
const HEADER = Buffer.alloc(5, 3).toString('base64'); // "=" padding
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const canonical = (middle = '', end = '') =>
  `{"type":"relay","to":"bob","alg":"X25519+AESGCM"${middle},"nonce":"${NONCE}","cipher":"${CIPHER}"${end}}`;

describe('relay fast path (readCanonicalRelay)', () => {
  it.each([
    ['no header, no id', canonical()],
    ['with id', canonical('', ',"id":"m-1_x"')],
    ['with header and id', canonical(`,"header":"${HEADER}"`, ',"id":"m1"')],
    ['a 32-character name', canonical().replace('"bob"', `"${'b'.repeat(32)}"`)],
    ['a 64-character id', canonical('', `,"id":"${'i'.repeat(64)}"`)],
  ])('takes a canonical relay (%s) and splices from into the original bytes', (_label, text) => {
    const relay = readCanonicalRelay(bytes(text));
    expect(relay).toBeDefined();
    const slow = slowPath(bytes(text), 'alice');
    expect(slow.ok).toBe(true);
    if (!slow.ok) return;
    expect(relay!.deliveryLine('alice')).toBe(slow.line);
    expect(relay!.deliveryLine('alice')).toBe(
      `{"type":"relay","from":"alice",${text.slice('{"type":"relay",'.length)}\n`,
    );
    expect(relay!.to).toBe(slow.to);
    expect(relay!.id).toBe(slow.id);
    expect(relay!.cipherLength).toBe(slow.cipher);
  });

  it.each([
    ['client-supplied from (seed clients)', canonical().replace(',"to"', ',"from":"alice","to"')],
    [
      'keys reordered',
      `{"type":"relay","alg":"X25519+AESGCM","to":"bob","nonce":"${NONCE}","cipher":"${CIPHER}"}`,
    ],
    ['duplicate to', canonical('', ',"to":"carol"')],
    ['duplicate cipher', canonical('', `,"cipher":"${CIPHER}"`)],
    ['unknown key', canonical('', ',"x":1')],
    ['__proto__ key', canonical('', ',"__proto__":{"to":"carol"}')],
    ['\\u escape in to', canonical().replace('"bob"', '"b\\u006fb"')],
    ['space after a colon', canonical().replace('"to":"bob"', '"to": "bob"')],
    ['trailing space', `${canonical()} `],
    ['trailing carriage return', `${canonical()}\r`],
    ['two objects', `${canonical()}{}`],
    ['header null', canonical(',"header":null')],
    ['id null', canonical('', ',"id":null')],
    ['id after nothing', canonical('', ',"id":""')],
    ['name __proto__', canonical().replace('"bob"', '"__proto__"')],
    ['name constructor', canonical().replace('"bob"', '"constructor"')],
    ['33-character name', canonical().replace('"bob"', `"${'b'.repeat(33)}"`)],
    ['65-character id', canonical('', `,"id":"${'i'.repeat(65)}"`)],
    ['11-byte nonce', canonical().replace(NONCE, Buffer.alloc(11).toString('base64'))],
    ['15-byte cipher', canonical().replace(CIPHER, Buffer.alloc(15).toString('base64'))],
    ['unpadded cipher', canonical().replace(CIPHER, CIPHER.replace(/=+$/, ''))],
    ['non-canonical spare bits', canonical().replace(CIPHER, CIPHER.replace(/.(=+)$/, 'B$1'))],
    ['URL-safe alphabet', canonical().replace(NONCE, NONCE.replace(/.$/, '-'))],
    ['empty header', canonical(',"header":""')],
    ['header over 2048 bytes', canonical(`,"header":"${Buffer.alloc(2049).toString('base64')}"`)],
    ['non-ASCII name', canonical().replace('"bob"', '"bób"')],
  ])('leaves %s to the full parser', (_label, text) => {
    expect(readCanonicalRelay(bytes(text))).toBeUndefined();
    fastMatchesSlow(bytes(text));
  });

  it('delivers the same frame by splice as EncodedRelay does by encoding', () => {
    const frame: RelayFrame = {
      type: 'relay',
      to: 'bob',
      alg: 'X25519+AESGCM',
      header: HEADER,
      nonce: NONCE,
      cipher: CIPHER,
      id: 'm1',
    };
    const text = canonical(`,"header":"${HEADER}"`, ',"id":"m1"');
    const encoded = new EncodedRelay(frame);
    expect(readCanonicalRelay(bytes(text))!.deliveryLine('al.ice')).toBe(
      encoded.deliveryLine('al.ice'),
    );
    expect(encoded.deliveryLine('al.ice')).toBe(encodeRelayDelivery('al.ice', frame));
    expect(delivered(encoded.deliveryLine('al.ice'))).toEqual({ ...frame, from: 'al.ice' });
  });

  it('property: the spliced line is the slow path line, and what the slow path refuses is not taken', () => {
    let fast = 0;
    fc.assert(
      fc.property(relayLine, (line) => {
        fastMatchesSlow(line);
        if (readCanonicalRelay(line)) fast++;
      }),
      { numRuns: 400 },
    );
    expect(fast).toBeGreaterThan(0); // the generator does reach the fast path
  });

  it('takes every line our own encoder writes without from', () => {
    fc.assert(
      fc.property(relayLine, (line) => {
        const slow = slowPath(line, 'x');
        if (!slow.ok || slow.from !== undefined) return;
        // A line the slow path accepts is canonical exactly when re-encoding gives it back.
        const again = `{"type":"relay",${slow.line.slice('{"type":"relay","from":"x",'.length, -1)}`;
        const text = Buffer.from(line).toString('latin1');
        expect(readCanonicalRelay(line) !== undefined).toBe(again === text);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every cut of a canonical line without reading past it, inside a larger buffer too', () => {
    const text = canonical(`,"header":"${HEADER}"`, ',"id":"m1"');
    // The line as the decoder hands it out: a view into a bigger chunk, bytes after it.
    const chunk = Buffer.from(`xx${text}\n{"type":"relay"`, 'latin1');
    const whole = chunk.subarray(2, 2 + text.length);
    expect(readCanonicalRelay(whole)?.deliveryLine('a')).toBe(
      `{"type":"relay","from":"a",${text.slice('{"type":"relay",'.length)}\n`,
    );
    expect(readCanonicalRelay(whole)?.id).toBe('m1');
    for (let cut = 0; cut < text.length; cut++) {
      expect(readCanonicalRelay(whole.subarray(0, cut))).toBeUndefined();
      expect(readCanonicalRelay(bytes(text.slice(0, cut)))).toBeUndefined();
    }
  });
});
