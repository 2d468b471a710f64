// Ed25519 verification: noble (pure JS) vs node:crypto (OpenSSL), the server's hello path.
// Run: npm run build && node bench/ed25519.mjs [--seconds 2]
import { performance } from 'node:perf_hooks';
import {
  ed25519Sign,
  ed25519VerifierFor,
  ed25519VerifyNoble,
  ed25519VerifyNode,
  generateIdentityKeyPair,
} from '../dist/protocol/index.js';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 2;
const MAX_OPS = 2_000_000;

const keys = Array.from({ length: 64 }, () => generateIdentityKeyPair());
const messages = keys.map((_, i) => new TextEncoder().encode(`hello proof ${i}`));
const signatures = keys.map((k, i) => ed25519Sign(k.secretKey, messages[i]));

function measure(label, fn) {
  for (let i = 0; i < 200; i++) fn(i); // warm-up
  const runs = [];
  for (let run = 0; run < 3; run++) {
    const deadline = performance.now() + (seconds * 1000) / 3;
    let ops = 0;
    const start = performance.now();
    while (performance.now() < deadline && ops < MAX_OPS) {
      if (!fn(ops)) throw new Error(`${label}: verification failed`);
      ops++;
    }
    runs.push((ops * 1000) / (performance.now() - start));
  }
  runs.sort((a, b) => a - b);
  return { label, opsPerSecond: Math.round(runs[1]) };
}

const results = [
  measure('noble ed25519.verify', (i) =>
    ed25519VerifyNoble(keys[i % 64].publicKey, messages[i % 64], signatures[i % 64]),
  ),
  measure('node:crypto verify (key parsed per call)', (i) =>
    ed25519VerifyNode(keys[i % 64].publicKey, messages[i % 64], signatures[i % 64]),
  ),
  (() => {
    const verifiers = keys.map((k) => ed25519VerifierFor(k.publicKey));
    return measure('node:crypto verify (key parsed once)', (i) =>
      verifiers[i % 64](messages[i % 64], signatures[i % 64]),
    );
  })(),
];
const base = results[0].opsPerSecond;
for (const r of results) {
  console.log(
    `${r.label.padEnd(42)} ${String(r.opsPerSecond).padStart(9)} verifies/s  (${(r.opsPerSecond / base).toFixed(1)}x noble)`,
  );
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
