// PQXDH cost (in-process, from dist/): session setups per second with and without the
// post-quantum KEM (initiate + accept + first message, as crypto.mjs measures X3DH), and the
// wire bytes it adds: the first message's relay line, a bundle, a KEM prekey upload.
// Usage: node bench/pqxdh.mjs [seconds per figure] — prints JSON, or Markdown with --md.
import { performance } from 'node:perf_hooks';

const p = await import(new URL('../dist/protocol/index.js', import.meta.url).href);
const seconds = Number(process.argv[2] ?? 1);
const markdown = process.argv.includes('--md');

/**
 * Operations per second of each op: after a warm-up, 5 rounds in turn (A B C A B C …) so a
 * machine shared with other work disturbs each figure alike; the median round of each.
 */
function rates(ops) {
  for (const op of ops) for (let i = 0; i < 20; i++) op();
  const runs = ops.map(() => []);
  for (let r = 0; r < 5; r++) {
    ops.forEach((op, k) => {
      let n = 0;
      const start = performance.now();
      const end = start + (seconds * 1000) / 5;
      while (performance.now() < end && n < 1_000_000) {
        op();
        n++;
      }
      runs[k].push((n * 1000) / (performance.now() - start));
    });
  }
  return runs.map((r) => r.sort((a, b) => a - b)[2]);
}

const plain = new TextEncoder().encode('x'.repeat(100));
const alice = p.generateIdentityKeyPair();
const bob = p.generateIdentityKeyPair();
const bobSpk = p.generateX25519KeyPair();
const bobOpk = p.generateX25519KeyPair();
const seed = p.newKemSeed();
const kem = p.kemKeyPair(seed);
const x3dhBundle = {
  identityKey: bob.publicKey,
  signedPrekey: bobSpk.publicKey,
  signedPrekeySignature: p.signPrekey(bob.secretKey, bobSpk.publicKey),
  oneTimePrekey: { id: 1, publicKey: bobOpk.publicKey },
};
const pqBundle = { ...x3dhBundle, kemPrekey: { id: 2, publicKey: kem.publicKey } };
const kemRecord = { id: 2, created: Date.now(), lastResort: false, publicKey: kem.publicKey };
const kemSig = p.signKemPrekey(bob.secretKey, kemRecord);

function setup(bundle, responderKem) {
  const s = p.initiateSession(alice, bundle);
  const m = p.ratchetEncrypt(s, plain);
  const init = p.decodeHeader(m.header).init;
  p.ratchetDecrypt(
    p.acceptSession(bob, bobSpk, init, bobOpk.secretKey, responderKem?.()),
    m.header,
    m.nonce,
    m.ciphertext,
  );
  return m;
}

const relayLine = (m) =>
  JSON.stringify({
    type: 'relay',
    to: 'bob',
    from: 'alice',
    alg: m.alg,
    header: p.toBase64(m.header),
    nonce: p.toBase64(m.nonce),
    cipher: p.toBase64(m.ciphertext),
    id: 'm-1',
  }).length + 1;

const x3dhFirst = setup(x3dhBundle);
const pqFirst = setup(pqBundle, () => kem.secretKey);
const bundleBase = {
  type: 'bundle',
  user: 'bob',
  pub: p.toBase64(bobSpk.publicKey),
  idk: p.toBase64(bob.publicKey),
  sig: p.toBase64(new Uint8Array(64)),
  spk: { id: 1, created: Date.now(), sig: p.toBase64(new Uint8Array(64)) },
  opk: { id: 1, pub: p.toBase64(bobOpk.publicKey) },
  online: true,
  caps: ['presence', 'ack', 'ping', 'ratchet', 'mailbox', 'rooms', 'spk', 'random-nonce', 'pq'],
};
const kemWire = {
  id: 2,
  created: kemRecord.created,
  pub: p.toBase64(kem.publicKey),
  sig: p.toBase64(kemSig),
};
const upload = {
  type: 'prekeys',
  keys: [],
  kem: Array.from({ length: p.MAX_KEM_PREKEYS_PER_UPLOAD }, (_, i) => ({
    ...kemWire,
    id: 0x7fff0000 + i,
  })),
  kemlr: { ...kemWire, id: 0xffff0000 },
};

const result = {
  seconds,
  setupsPerSecond: (() => {
    const [x3dh, pqxdh, pqxdhAsClient] = rates([
      () => setup(x3dhBundle),
      () => setup(pqBundle, () => kem.secretKey),
      () => {
        // What a client does: check the KEM prekey's signature, and regenerate the
        // decapsulation key from its stored 64-byte seed before decapsulating.
        p.verifyKemPrekey(bob.publicKey, kemRecord, kemSig);
        setup(pqBundle, () => p.kemKeyPair(seed).secretKey);
      },
    ]);
    return { x3dh, pqxdh, pqxdhAsClient };
  })(),
  bytes: {
    initHeader: { x3dh: x3dhFirst.header.length, pqxdh: pqFirst.header.length },
    firstRelayLine: { x3dh: relayLine(x3dhFirst), pqxdh: relayLine(pqFirst) },
    bundleLine: {
      x3dh: JSON.stringify(bundleBase).length + 1,
      pqxdh: JSON.stringify({ ...bundleBase, kem: kemWire }).length + 1,
    },
    kemUploadLine25: JSON.stringify(upload).length + 1,
  },
};

if (!markdown) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const n = (x) => Math.round(x).toLocaleString('en-US');
  const s = result.setupsPerSecond;
  const b = result.bytes;
  console.log(`| figure | X3DH | PQXDH (ML-KEM-1024) | ratio |
|---|---|---|---|
| session setups/s (initiate + accept + first message) | ${n(s.x3dh)} | ${n(s.pqxdh)} | ${(s.pqxdh / s.x3dh).toFixed(2)}× |
| session setups/s as a client does it (+ KEM signature check, key from seed) | ${n(s.x3dh)} | ${n(s.pqxdhAsClient)} | ${(s.pqxdhAsClient / s.x3dh).toFixed(2)}× |
| init header (bytes, binary) | ${b.initHeader.x3dh} | ${b.initHeader.pqxdh} | +${b.initHeader.pqxdh - b.initHeader.x3dh} |
| first message relay line (bytes, 100-byte text) | ${b.firstRelayLine.x3dh} | ${b.firstRelayLine.pqxdh} | +${b.firstRelayLine.pqxdh - b.firstRelayLine.x3dh} |
| bundle line (bytes) | ${b.bundleLine.x3dh} | ${b.bundleLine.pqxdh} | +${b.bundleLine.pqxdh - b.bundleLine.x3dh} |
| upload of 25 one-time KEM prekeys + last resort (bytes) | — | ${b.kemUploadLine25} | (limit 65,536) |`);
}
