#!/usr/bin/env node
/**
 * Independent cross-check of test/vectors/pqxdh-v1.json (test-only; run by
 * test/unit/protocol/pqxdh-vectors.test.ts, or by hand:
 *   node test/vectors/check-pqxdh-vectors.mjs test/vectors/pqxdh-v1.json).
 *
 * Recomputes from the file's inputs, without @noble (which securechat uses):
 *  - ML-KEM-1024 KeyGen(d ‖ z) and Encaps(ek, m) with the `mlkem` npm package (its own
 *    Keccak and arithmetic), giving ek, CT and SS;
 *  - DH1..DH4 with node:crypto's X25519 (OpenSSL);
 *  - SK = HKDF-SHA256(salt = 32 zero bytes, ikm = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS, info)
 *    with node:crypto's hkdfSync;
 * and compares each with the values securechat wrote. Prints one line per check; exits 1 on
 * any mismatch.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MlKem1024 } from 'mlkem';

const file = process.argv[2];
if (!file) {
  console.error('usage: check-pqxdh-vectors.mjs FILE');
  process.exit(2);
}
const vectors = JSON.parse(readFileSync(file, 'utf8'));
const hex = (s) => Buffer.from(s, 'hex');
const privateKey = (secret) =>
  createPrivateKey({
    key: Buffer.concat([hex('302e020100300506032b656e04220420'), hex(secret)]),
    format: 'der',
    type: 'pkcs8',
  });
const publicKey = (pub) =>
  createPublicKey({
    key: Buffer.concat([hex('302a300506032b656e032100'), hex(pub)]),
    format: 'der',
    type: 'spki',
  });
const dh = (secret, pub) =>
  diffieHellman({ privateKey: privateKey(secret), publicKey: publicKey(pub) });

let failed = 0;
const check = (name, actual, expected) => {
  const ok = Buffer.from(actual).toString('hex') === expected;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
};

const kem = new MlKem1024();
for (const v of vectors.cases) {
  const i = v.inputs;
  const [ek] = await kem.deriveKeyPair(hex(i.kemSeed));
  check(
    `${v.name}: ML-KEM-1024 ek (sha256)`,
    createHash('sha256').update(ek).digest(),
    v.kemPublicKeySha256,
  );
  const [ct, ss] = await kem.encap(ek, hex(i.kemEncapsRandom));
  check(`${v.name}: ML-KEM-1024 CT`, ct, v.kemCiphertext);
  check(`${v.name}: ML-KEM-1024 SS`, ss, v.kemSharedSecret);
  const parts = [
    dh(i.initiatorIdentityX25519Secret, i.responderSignedPrekey),
    dh(i.initiatorEphemeralSecret, i.responderIdentityX25519Public),
    dh(i.initiatorEphemeralSecret, i.responderSignedPrekey),
  ];
  if (i.responderOneTimePrekey)
    parts.push(dh(i.initiatorEphemeralSecret, i.responderOneTimePrekey));
  for (const [n, p] of parts.entries()) check(`${v.name}: DH${n + 1}`, p, v.dh[n]);
  const ikm = Buffer.concat([Buffer.alloc(32, 0xff), ...parts, ss]);
  const sk = hkdfSync('sha256', ikm, Buffer.alloc(32), vectors.info, 32);
  check(`${v.name}: SK`, new Uint8Array(sk), v.sk);
}
console.log(failed === 0 ? 'all PQXDH vectors agree' : `${failed} mismatches`);
process.exit(failed === 0 ? 0 : 1);
