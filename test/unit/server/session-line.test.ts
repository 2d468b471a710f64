import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/index.js';
import { readSessionLine } from '../../../src/server/session-line.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');
const canonical = `{"type":"relay","to":"bob","alg":"x25519-aes256gcm","nonce":"${b64(12)}","cipher":"${b64(40)}","id":"m1"}`;

function fatal(reading: ReturnType<typeof readSessionLine>): boolean | undefined {
  return reading.kind === 'refused' && reading.error instanceof ProtocolError
    ? reading.error.fatal
    : undefined;
}

describe('readSessionLine', () => {
  it('takes a canonical relay by the fast path only once the session is ready', () => {
    expect(readSessionLine(bytes(canonical), 'ready').kind).toBe('relay');
    // Before the hello the full parser reads it, and the frame table refuses it there.
    expect(readSessionLine(bytes(canonical), 'awaiting-hello').kind).toBe('frame');
  });

  it('parses a non-canonical relay with the full parser', () => {
    const spaced = canonical.replace('"to":', '"to": ');
    const reading = readSessionLine(bytes(spaced), 'ready');
    expect(reading.kind).toBe('frame');
    if (reading.kind === 'frame') expect(reading.frame.type).toBe('relay');
  });

  it('refuses garbage before the hello as fatal (not a client of ours), with no ref', () => {
    const reading = readSessionLine(bytes('GET / HTTP/1.1'), 'awaiting-hello');
    expect(reading.kind).toBe('refused');
    expect(fatal(reading)).toBe(true);
    if (reading.kind === 'refused') expect(reading.ref).toBeUndefined();
  });

  it('answers a malformed hello without making it fatal', () => {
    const reading = readSessionLine(bytes('{"type":"hello","name":""}'), 'awaiting-hello');
    expect(reading.kind).toBe('refused');
    expect(fatal(reading)).not.toBe(true);
  });

  it('after the hello a bad frame is refused with its id as the ref', () => {
    const reading = readSessionLine(bytes('{"type":"relay","to":"bob","id":"m9"}'), 'ready');
    expect(reading.kind).toBe('refused');
    if (reading.kind === 'refused') expect(reading.ref).toBe('m9');
  });
});
