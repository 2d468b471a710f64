// Client-side crypto throughput (runs in-process, pinned by run.mjs): v1 envelope seal+open,
// Double Ratchet encrypt+decrypt on an established session, X3DH and PQXDH session setup, room
// sender-key seal+open. Reports medians of 3 timed rounds after a warm-up.
import { performance } from 'node:perf_hooks';

const p = await import(new URL('../dist/protocol/index.js', import.meta.url).href);
const seconds = Number(process.argv[2] ?? 1);

function rate(label, unit, op) {
  // Warm-up: at least 50 operations and a quarter of the timed length, so the JIT settles.
  const warm = performance.now() + (seconds * 1000) / 4;
  for (let i = 0; i < 50 || (performance.now() < warm && i < 1_000_000); i++) op();
  const runs = [];
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const end = performance.now() + (seconds * 1000) / 3;
    const start = performance.now();
    while (performance.now() < end && n < 5_000_000) {
      op();
      n++;
    }
    runs.push((n * 1000) / (performance.now() - start));
  }
  runs.sort((a, b) => a - b);
  return { label, unit, perSecond: runs[1] };
}

const text = 'x'.repeat(100);
const a = p.generateX25519KeyPair();
const b = p.generateX25519KeyPair();
const keyAB = p.deriveV1Key(a.secretKey, b.publicKey);
const keyBA = p.deriveV1Key(b.secretKey, a.publicKey);

// an established ratchet session
const alice = p.generateIdentityKeyPair();
const bob = p.generateIdentityKeyPair();
const bobSpk = p.generateX25519KeyPair();
const bundle = {
  identityKey: bob.publicKey,
  signedPrekey: bobSpk.publicKey,
  signedPrekeySignature: p.signPrekey(bob.secretKey, bobSpk.publicKey),
};
let sa = p.initiateSession(alice, bundle);
const first = p.ratchetEncrypt(sa, new TextEncoder().encode('hi'));
sa = first.state;
let sb = p.ratchetDecrypt(
  p.acceptSession(bob, bobSpk, p.decodeHeader(first.header).init, undefined),
  first.header,
  first.nonce,
  first.ciphertext,
).state;
const plain = new TextEncoder().encode(text);

const bobKem = p.kemKeyPair(p.newKemSeed());
const pqBundle = { ...bundle, kemPrekey: { id: 1, publicKey: bobKem.publicKey } };

const sender = p.createSenderKey();
const receiver = p.receiveSenderKey(p.distributionOf(sender));

const results = [
  rate('v1 envelope seal+open (100-byte text)', 'messages/s', () =>
    p.openV1(keyBA, p.sealV1(keyAB, text)),
  ),
  rate('ratchet encrypt+decrypt (100 bytes, same chain)', 'messages/s', () => {
    const out = p.ratchetEncrypt(sa, plain);
    sa = out.state;
    sb = p.ratchetDecrypt(sb, out.header, out.nonce, out.ciphertext).state;
  }),
  rate('ratchet ping-pong (DH step every message)', 'messages/s', () => {
    const out = p.ratchetEncrypt(sa, plain);
    sa = out.state;
    sb = p.ratchetDecrypt(sb, out.header, out.nonce, out.ciphertext).state;
    const back = p.ratchetEncrypt(sb, plain);
    sb = back.state;
    sa = p.ratchetDecrypt(sa, back.header, back.nonce, back.ciphertext).state;
  }),
  rate('X3DH session setup (initiate + accept + first message)', 'sessions/s', () => {
    const s = p.initiateSession(alice, bundle);
    const m = p.ratchetEncrypt(s, plain);
    p.ratchetDecrypt(
      p.acceptSession(bob, bobSpk, p.decodeHeader(m.header).init, undefined),
      m.header,
      m.nonce,
      m.ciphertext,
    );
  }),
  rate(
    'PQXDH session setup (X3DH + ML-KEM-1024; initiate + accept + first message)',
    'sessions/s',
    () => {
      const s = p.initiateSession(alice, pqBundle);
      const m = p.ratchetEncrypt(s, plain);
      p.ratchetDecrypt(
        p.acceptSession(bob, bobSpk, p.decodeHeader(m.header).init, undefined, bobKem.secretKey),
        m.header,
        m.nonce,
        m.ciphertext,
      );
    },
  ),
  rate('room sender key seal+open (signed)', 'messages/s', () => {
    const m = p.sealRoomMessage(sender, '#room', 'alice', plain);
    p.openRoomMessage(receiver, '#room', 'alice', m);
  }),
];
console.log(JSON.stringify(results));
