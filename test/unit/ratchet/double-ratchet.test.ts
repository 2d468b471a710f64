import { describe, expect, it } from 'vitest';
import {
  acceptSession,
  decodeHeader,
  decodeSessionState,
  encodeHeader,
  encodeSessionState,
  generateX25519KeyPair,
  initiateSession,
  MAX_SKIP,
  ProtocolError,
  ratchetDecrypt,
  signPrekey,
} from '../../../src/protocol/index.js';
import {
  bundleOf,
  handshake,
  party,
  ratchetDecryptInit,
  receive,
  send,
  type Wire,
} from './fixtures.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return undefined;
}

describe('X3DH + Double Ratchet', () => {
  it('agrees on a session with and without a one-time prekey and talks both ways with DH steps', () => {
    for (const withOneTime of [true, false]) {
      let { a, b, firstText } = handshake(undefined, withOneTime);
      expect(firstText).toBe('hello bob');
      for (let round = 0; round < 4; round++) {
        const fromBob = send(b, `bob ${round}`);
        b = fromBob.state;
        const gotA = receive(a, fromBob.wire);
        a = gotA.state;
        expect(gotA.text).toBe(`bob ${round}`);
        const fromAlice = send(a, `alice ${round} ✓`);
        a = fromAlice.state;
        const gotB = receive(b, fromAlice.wire);
        b = gotB.state;
        expect(gotB.text).toBe(`alice ${round} ✓`);
      }
      expect(a.pendingInit).toBeUndefined();
    }
  });

  it('keeps sending the X3DH init until the first reply, then stops', () => {
    let { a, b } = handshake();
    const second = send(a, 'second');
    expect(decodeHeader(second.wire.header).init).toBeDefined();
    a = second.state;
    b = receive(b, second.wire).state;
    const reply = send(b, 'reply');
    a = receive(a, reply.wire).state;
    expect(decodeHeader(send(a, 'third').wire.header).init).toBeUndefined();
  });

  it('refuses a bundle whose signed prekey is not signed by the identity key', () => {
    const alice = party();
    const bob = party();
    const forged = { ...bundleOf(bob), signedPrekey: generateX25519KeyPair().publicKey };
    expect(code(() => initiateSession(alice.identity, forged))).toBe('E_BAD_KEY');
    const wrongSigner = {
      ...bundleOf(bob),
      signedPrekeySignature: signPrekey(alice.identity.secretKey, bob.signedPrekey.publicKey),
    };
    expect(code(() => initiateSession(alice.identity, wrongSigner))).toBe('E_BAD_KEY');
  });

  it('refuses an init for a used one-time prekey (replayed first message) or an old signed prekey', () => {
    const alice = party();
    const bob = party();
    const a = initiateSession(alice.identity, bundleOf(bob));
    const first = send(a, 'hi');
    ratchetDecryptInit(bob, first.wire); // consumes prekey 1
    const init = decodeHeader(first.wire.header).init!;
    expect(code(() => acceptSession(bob.identity, bob.signedPrekey, init, undefined))).toBe(
      'E_RATCHET_UNKNOWN_PREKEY',
    );
    expect(code(() => acceptSession(bob.identity, generateX25519KeyPair(), init, undefined))).toBe(
      'E_RATCHET_UNKNOWN_PREKEY',
    );
  });

  it('decrypts out of order within the bound and refuses beyond MAX_SKIP without changing state', () => {
    let { a, b } = handshake();
    const wires: Wire[] = [];
    for (let i = 0; i < 5; i++) {
      const out = send(a, `m${i}`);
      a = out.state;
      wires.push(out.wire);
    }
    for (const i of [4, 1, 3, 0, 2]) {
      const got = receive(b, wires[i]!);
      b = got.state;
      expect(got.text).toBe(`m${i}`);
    }
    let far = a;
    let farWire: Wire | undefined;
    for (let i = 0; i <= MAX_SKIP + 1; i++) {
      const out = send(far, `f${i}`);
      far = out.state;
      farWire = out.wire;
    }
    const before = encodeSessionState(b);
    expect(code(() => receive(b, farWire!))).toBe('E_RATCHET_TOO_MANY_SKIPPED');
    expect(encodeSessionState(b)).toBe(before);
  });

  it('rejects duplicates and replays, including from finished chains', () => {
    let { a, b, firstWire } = handshake();
    const m = send(a, 'once');
    a = m.state;
    b = receive(b, m.wire).state;
    expect(code(() => receive(b, m.wire))).toBe('E_RATCHET_DUPLICATE');
    expect(code(() => receive(b, firstWire))).toBe('E_RATCHET_DUPLICATE');
    const reply = send(b, 'reply');
    b = reply.state;
    a = receive(a, reply.wire).state;
    const next = send(a, 'new chain');
    b = receive(b, next.wire).state;
    expect(code(() => receive(b, m.wire))).toBe('E_RATCHET_DUPLICATE');
    expect(code(() => receive(a, reply.wire))).toBe('E_RATCHET_DUPLICATE');
  });

  it('detects tampering with header, nonce or ciphertext and leaves the state usable', () => {
    let { a, b } = handshake();
    const m = send(a, 'authentic');
    a = m.state;
    const flip = (bytes: Uint8Array, i: number) => {
      const copy = bytes.slice();
      copy[i]! ^= 1;
      return copy;
    };
    const before = encodeSessionState(b);
    expect(code(() => receive(b, { ...m.wire, ciphertext: flip(m.wire.ciphertext, 0) }))).toBe(
      'E_DECRYPT_FAILED',
    );
    expect(code(() => receive(b, { ...m.wire, nonce: flip(m.wire.nonce, 3) }))).toBe(
      'E_DECRYPT_FAILED',
    );
    expect(code(() => receive(b, { ...m.wire, header: flip(m.wire.header, 40) }))).toMatch(
      /E_DECRYPT_FAILED|E_RATCHET_TOO_MANY_SKIPPED/,
    );
    expect(code(() => receive(b, { ...m.wire, header: flip(m.wire.header, 0) }))).toBe(
      'E_BAD_FIELD',
    );
    expect(encodeSessionState(b)).toBe(before);
    expect(receive(b, m.wire).text).toBe('authentic');
  });

  it('binds both identities: a session with another identity cannot open the message', () => {
    const { a } = handshake();
    const carol = party();
    const dave = party();
    const other = initiateSession(carol.identity, bundleOf(dave));
    const m = send(a, 'for bob');
    expect(code(() => ratchetDecrypt(other, m.wire.header, m.wire.nonce, m.wire.ciphertext))).toBe(
      'E_DECRYPT_FAILED',
    );
  });

  it('forward secrecy: a state captured later cannot decrypt earlier messages', () => {
    let { a, b } = handshake();
    const early = send(a, 'early secret');
    a = early.state;
    b = receive(b, early.wire).state;
    for (let i = 0; i < 3; i++) {
      const r = send(b, `r${i}`);
      b = r.state;
      a = receive(a, r.wire).state;
      const s = send(a, `s${i}`);
      a = s.state;
      b = receive(b, s.wire).state;
    }
    const stolen = decodeSessionState(encodeSessionState(b));
    expect(code(() => receive(stolen, early.wire))).toBe('E_RATCHET_DUPLICATE');
    // even ignoring the replay check, no key in the stolen state opens it
    const stripped = {
      ...stolen,
      previousRatchets: [],
      recvRatchet: undefined,
      recvChain: undefined,
    };
    expect(() => receive(stripped as typeof stolen, early.wire)).toThrow(ProtocolError);
  });

  it('post-compromise security: once the compromised side makes a fresh ratchet key, a leaked old state is useless', () => {
    let { a, b } = handshake();
    const leakedBob = decodeSessionState(encodeSessionState(b)); // the attacker copies Bob's state (ratchet key B1)
    const r1 = send(b, 'bob replies with B1');
    b = r1.state;
    a = receive(a, r1.wire).state; // Alice steps to A2
    const m = send(a, 'alice on A2/B1');
    a = m.state;
    b = receive(b, m.wire).state; // Bob steps to a fresh B2 the attacker never saw
    const p = send(b, 'bob on B2');
    b = p.state;
    expect(() => receive(leakedBob, p.wire)).toThrow(ProtocolError);
    a = receive(a, p.wire).state; // Alice steps to A3
    const q = send(a, 'alice on A3/B2');
    expect(() => receive(leakedBob, q.wire)).toThrow(ProtocolError);
    expect(receive(b, q.wire).text).toBe('alice on A3/B2');
  });

  it('round-trips the serialized state and rejects malformed states', () => {
    const { a, b } = handshake();
    for (const state of [a, b]) {
      const text = encodeSessionState(state);
      expect(encodeSessionState(decodeSessionState(text))).toBe(text);
    }
    const good = JSON.parse(encodeSessionState(a));
    for (const broken of [
      'nope',
      '{}',
      JSON.stringify({ ...good, version: 2 }),
      JSON.stringify({ ...good, ns: -1 }),
      JSON.stringify({ ...good, rootKey: 'AAAA' }),
      JSON.stringify({ ...good, skipped: [['x', 1, 'y']] }),
      JSON.stringify({ ...good, ad: 'AAAA' }),
    ]) {
      expect(code(() => decodeSessionState(broken))).toBe('E_BAD_FIELD');
    }
  });

  it('encodes headers strictly', () => {
    const header = { dh: new Uint8Array(32).fill(7), pn: 3, n: 9 };
    const bytes = encodeHeader(header);
    expect(bytes.length).toBe(42);
    expect(decodeHeader(bytes)).toEqual(header);
    const withInit = encodeHeader({
      ...header,
      init: {
        identityKey: new Uint8Array(32).fill(1),
        ephemeralKey: new Uint8Array(32).fill(2),
        signedPrekey: new Uint8Array(32).fill(3),
        oneTimePrekeyId: 77,
      },
    });
    expect(withInit.length).toBe(142);
    expect(decodeHeader(withInit).init?.oneTimePrekeyId).toBe(77);
    for (const bad of [
      bytes.subarray(0, 41),
      Uint8Array.of(2, ...bytes.subarray(1)),
      Uint8Array.of(1, 4, ...bytes.subarray(2)),
      withInit.subarray(0, 141),
    ]) {
      expect(code(() => decodeHeader(bad))).toBe('E_BAD_FIELD');
    }
  });
});
