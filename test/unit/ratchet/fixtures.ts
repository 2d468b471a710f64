import { sha256 } from '@noble/hashes/sha2.js';
import {
  acceptSession,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  type IdentityKeyPair,
  initiateSession,
  type PrekeyBundle,
  type RandomSource,
  ratchetDecrypt,
  ratchetEncrypt,
  type SessionState,
  signPrekey,
  type X25519KeyPair,
} from '../../../src/protocol/index.js';

/** Deterministic "random" bytes: SHA-256(seed ‖ counter) blocks. For vectors only. */
export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  const seedBytes = new TextEncoder().encode(seed);
  return (length: number) => {
    const out = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const block = new Uint8Array(seedBytes.length + 4);
      block.set(seedBytes);
      new DataView(block.buffer).setUint32(seedBytes.length, counter++);
      const digest = sha256(block);
      out.set(digest.subarray(0, Math.min(32, length - offset)), offset);
      offset += 32;
    }
    return out;
  };
}

export interface Party {
  identity: IdentityKeyPair;
  signedPrekey: X25519KeyPair;
  oneTime: Map<number, X25519KeyPair>;
}

export function party(random?: RandomSource, prekeys = 3): Party {
  const oneTime = new Map<number, X25519KeyPair>();
  for (let id = 1; id <= prekeys; id++) oneTime.set(id, generateX25519KeyPair(random));
  return {
    identity: generateIdentityKeyPair(random),
    signedPrekey: generateX25519KeyPair(random),
    oneTime,
  };
}

export function bundleOf(p: Party, withOneTime = true): PrekeyBundle {
  const first = [...p.oneTime.entries()][0];
  return {
    identityKey: p.identity.publicKey,
    signedPrekey: p.signedPrekey.publicKey,
    signedPrekeySignature: signPrekey(p.identity.secretKey, p.signedPrekey.publicKey),
    ...(withOneTime && first
      ? { oneTimePrekey: { id: first[0], publicKey: first[1].publicKey } }
      : {}),
  };
}

export interface Wire {
  header: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function send(state: SessionState, text: string): { state: SessionState; wire: Wire } {
  const out = ratchetEncrypt(state, encoder.encode(text));
  return {
    state: out.state,
    wire: { header: out.header, nonce: out.nonce, ciphertext: out.ciphertext },
  };
}

export function receive(
  state: SessionState,
  wire: Wire,
  random?: RandomSource,
): { state: SessionState; text: string } {
  const out = ratchetDecrypt(
    state,
    wire.header,
    wire.nonce,
    wire.ciphertext,
    random ? { random } : {},
  );
  return { state: out.state, text: decoder.decode(out.plaintext) };
}

/** Alice initiates with Bob's bundle, sends one message, Bob accepts it. */
export function handshake(random?: RandomSource, withOneTime = true) {
  const alice = party(random);
  const bob = party(random);
  let a = initiateSession(alice.identity, bundleOf(bob, withOneTime), random);
  const first = send(a, 'hello bob');
  a = first.state;
  const init = ratchetDecryptInit(bob, first.wire);
  return { alice, bob, a, b: init.state, firstText: init.text, firstWire: first.wire };
}

export function ratchetDecryptInit(bob: Party, wire: Wire, random?: RandomSource) {
  const { decodeHeader } = requireHeader();
  const header = decodeHeader(wire.header);
  if (!header.init) throw new Error('not an init message');
  const opkId = header.init.oneTimePrekeyId;
  const opk = opkId === undefined ? undefined : bob.oneTime.get(opkId);
  const state = acceptSession(bob.identity, bob.signedPrekey, header.init, opk?.secretKey);
  if (opkId !== undefined) bob.oneTime.delete(opkId);
  return receive(state, wire, random);
}

import { decodeHeader } from '../../../src/protocol/index.js';

function requireHeader() {
  return { decodeHeader };
}
