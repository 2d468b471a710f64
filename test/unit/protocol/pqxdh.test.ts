import { describe, expect, it } from 'vitest';
import {
  acceptSession,
  decodeHeader,
  decodeSessionState,
  ErrorCode,
  encodeHeader,
  encodeSessionState,
  initiateSession,
  kemKeyPair,
  MAX_RELAY_HEADER_BYTES,
  newKemSeed,
  SignedPrekeyKind,
  signKemPrekey,
  signSignedPrekey,
  verifyKemPrekey,
  verifySignedPrekey,
} from '../../../src/protocol/index.js';
import { bundleOf, party, receive, send } from '../ratchet/fixtures.js';

/** PQXDH (Signal's PQXDH rev. 1 with ML-KEM-1024) on top of the X3DH of ratchet/x3dh.ts. */

function pqSetup(withOneTime = true) {
  const alice = party();
  const bob = party();
  const kem = kemKeyPair(newKemSeed());
  const bundle = { ...bundleOf(bob, withOneTime), kemPrekey: { id: 77, publicKey: kem.publicKey } };
  const a = initiateSession(alice.identity, bundle);
  const first = send(a, 'hello quantum bob');
  const header = decodeHeader(first.wire.header);
  return { alice, bob, kem, a: first.state, first, header };
}

function accept(
  s: ReturnType<typeof pqSetup>,
  kemSecret: Uint8Array | undefined = s.kem.secretKey,
) {
  const init = s.header.init!;
  const opk =
    init.oneTimePrekeyId === undefined ? undefined : s.bob.oneTime.get(init.oneTimePrekeyId);
  return acceptSession(s.bob.identity, s.bob.signedPrekey, init, opk?.secretKey, kemSecret);
}

describe('PQXDH session setup', () => {
  it('the init carries the KEM prekey id and a 1,568-byte ciphertext; both sides agree and are marked pq', () => {
    const s = pqSetup();
    expect(s.header.init?.kem?.id).toBe(77);
    expect(s.header.init?.kem?.cipherText).toHaveLength(1568);
    expect(s.first.wire.header.length).toBe(2 + 32 + 8 + 96 + 4 + 4 + 1568);
    expect(s.first.wire.header.length).toBeLessThanOrEqual(MAX_RELAY_HEADER_BYTES);
    expect(s.a.pq).toBe(true);
    const b = accept(s);
    expect(b.pq).toBe(true);
    const got = receive(b, s.first.wire);
    expect(got.text).toBe('hello quantum bob');
    const reply = send(got.state, 'hello alice');
    expect(receive(s.a, reply.wire).text).toBe('hello alice');
  });

  it('works without a one-time X25519 prekey (DH1..DH3 ‖ SS)', () => {
    const s = pqSetup(false);
    expect(s.header.init?.oneTimePrekeyId).toBeUndefined();
    expect(receive(accept(s), s.first.wire).text).toBe('hello quantum bob');
  });

  it('the header round-trips with and without a one-time prekey, and refuses truncated KEM fields', () => {
    const s = pqSetup();
    expect(encodeHeader(s.header)).toEqual(s.first.wire.header);
    expect(() => decodeHeader(s.first.wire.header.subarray(0, -1))).toThrow(/expected/);
    const noInit = s.first.wire.header.slice(0, 42);
    noInit[1] = 0x04; // KEM flag without init
    expect(() => decodeHeader(noInit)).toThrow(/without init/);
  });

  it('a responder without the named KEM prekey refuses (unknown prekey), never falls back to X3DH', () => {
    const s = pqSetup();
    const init = s.header.init!;
    const opk = s.bob.oneTime.get(init.oneTimePrekeyId!)?.secretKey;
    expect(() => acceptSession(s.bob.identity, s.bob.signedPrekey, init, opk)).toThrow(
      expect.objectContaining({ code: ErrorCode.RATCHET_UNKNOWN_PREKEY }),
    );
  });

  it('another KEM key, a tampered ciphertext or a stripped KEM field gives no plaintext', () => {
    const s = pqSetup();
    const other = kemKeyPair(newKemSeed());
    expect(() => receive(accept(s, other.secretKey), s.first.wire)).toThrow();
    const tampered = s.first.wire.header.slice();
    tampered[tampered.length - 10]! ^= 1;
    expect(() =>
      receive(accept({ ...s, header: decodeHeader(tampered) }), {
        ...s.first.wire,
        header: tampered,
      }),
    ).toThrow();
    // A server cutting the KEM part out of the header: the header is the AEAD's associated
    // data and SK lacks SS, so the message does not open.
    const { kem: _kem, ...stripped } = s.header.init!;
    const strippedHeader = encodeHeader({ ...s.header, init: stripped });
    expect(() =>
      receive(
        acceptSession(
          s.bob.identity,
          s.bob.signedPrekey,
          stripped,
          s.bob.oneTime.get(1)?.secretKey,
        ),
        { ...s.first.wire, header: strippedHeader },
      ),
    ).toThrow();
  });

  it('an encapsulation key failing the FIPS 203 checks is refused before anything is sent', () => {
    const alice = party();
    const bob = party();
    const bad = new Uint8Array(1568).fill(0xff);
    expect(() =>
      initiateSession(alice.identity, { ...bundleOf(bob), kemPrekey: { id: 1, publicKey: bad } }),
    ).toThrow(expect.objectContaining({ code: ErrorCode.BAD_KEY }));
  });

  it('session state with pq and a pending KEM init survives encode/decode; older state has no pq', () => {
    const s = pqSetup();
    const back = decodeSessionState(encodeSessionState(s.a));
    expect(back.pq).toBe(true);
    expect(back.pendingInit?.kem?.cipherText).toEqual(s.header.init?.kem?.cipherText);
    const { pq: _pq, ...plain } = JSON.parse(encodeSessionState(s.a));
    delete plain.pendingInit.kem;
    expect(decodeSessionState(JSON.stringify(plain)).pq).toBeUndefined();
    expect(() => decodeSessionState(JSON.stringify({ ...plain, pq: 1 }))).toThrow(/pq/);
  });
});

describe('KEM prekey signatures', () => {
  const bob = party();
  const kem = kemKeyPair(newKemSeed());
  const record = { id: 5, created: 1_700_000_000_000, lastResort: false, publicKey: kem.publicKey };

  it('verify over id, time, last-resort flag and key', () => {
    const sig = signKemPrekey(bob.identity.secretKey, record);
    expect(verifyKemPrekey(bob.identity.publicKey, record, sig)).toBe(true);
    expect(verifyKemPrekey(bob.identity.publicKey, { ...record, id: 6 }, sig)).toBe(false);
    expect(verifyKemPrekey(bob.identity.publicKey, { ...record, created: 1 }, sig)).toBe(false);
    expect(verifyKemPrekey(bob.identity.publicKey, { ...record, lastResort: true }, sig)).toBe(
      false,
    );
    const flipped = kem.publicKey.slice();
    flipped[0]! ^= 1;
    expect(verifyKemPrekey(bob.identity.publicKey, { ...record, publicKey: flipped }, sig)).toBe(
      false,
    );
    expect(verifyKemPrekey(party().identity.publicKey, record, sig)).toBe(false);
  });

  it('are domain-separated from signed-prekey signatures (neither verifies as the other)', () => {
    const kemSig = signKemPrekey(bob.identity.secretKey, record);
    const asSigned = {
      kind: SignedPrekeyKind.mlkem1024,
      id: 5,
      created: record.created,
      publicKey: kem.publicKey,
    };
    expect(verifySignedPrekey(bob.identity.publicKey, asSigned, kemSig)).toBe(false);
    const signedSig = signSignedPrekey(bob.identity.secretKey, asSigned);
    expect(verifyKemPrekey(bob.identity.publicKey, record, signedSig)).toBe(false);
    expect(
      verifyKemPrekey(bob.identity.publicKey, { ...record, lastResort: true }, signedSig),
    ).toBe(false);
  });

  it('refuse keys of the wrong length', () => {
    const sig = signKemPrekey(bob.identity.secretKey, record);
    expect(
      verifyKemPrekey(
        bob.identity.publicKey,
        { ...record, publicKey: kem.publicKey.subarray(1) },
        sig,
      ),
    ).toBe(false);
  });
});
