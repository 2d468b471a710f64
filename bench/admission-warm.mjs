// Admission cost of a *running* daemon, measured in pairs: this build and the bare forwarder
// (and `--floor`: our listener with the bare forwarder's work, bench/admission-floor.mjs) are
// each started once and warmed up, then take turns at short connect storms (v1: TLS + hello +
// welcome + close, 8 at a time; the order alternates). Each pair's ratio compares two storms
// minutes apart at most, so the machine's drift (±12 % between rounds here) cancels out
// better than in fresh-server rounds (admission-ab.mjs, which measures just-started daemons).
// Prints every pair's ratio and the median of the later half: a fresh Node server keeps
// compiling its connect path for thousands of connects, ours (several times the code of the
// bare forwarder) longer.
//
//   npm run build && node bench/admission-warm.mjs [--pairs 16] [--count 500] [--warmup 5000] [--floor]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admissionStorm } from './lib/admission-storm.mjs';
import { optionTaker } from './lib/args.mjs';
import { median } from './lib/stats.mjs';
import { killAll, makeCertificate, TARGETS } from './servers.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
const pairs = Number(take('pairs', 16));
const count = Number(take('count', 500));
const warmup = Number(take('warmup', 5000));
const floorAt = args.indexOf('--floor');
if (floorAt !== -1) args.splice(floorAt, 1);
if (args.length > 0 || !(pairs >= 2) || !(count > 0) || !(warmup >= 0)) {
  console.error(
    'usage: node bench/admission-warm.mjs [--pairs 16] [--count 500] [--warmup 5000] [--floor]',
  );
  process.exit(2);
}
const peers = ['ours', ...(floorAt !== -1 ? ['floor'] : []), 'bare'];

const certDir = mkdtempSync(join(tmpdir(), 'securechat-admission-warm-'));
process.on('exit', () => {
  killAll();
  rmSync(certDir, { recursive: true, force: true });
});
const cert = await makeCertificate(certDir);
const targets = [];
for (const peer of peers) targets.push(await TARGETS[peer](cert));

/** One storm of `connects` against `target`: server CPU ms per connect. */
const storm = (target, connects) =>
  admissionStorm(target, cert, { count: connects }).serverCpuMsPerConnect;

for (const target of targets) storm(target, warmup);
const runs = targets.map(() => []);
for (let pair = 0; pair < pairs; pair++) {
  const order = pair % 2 ? [...targets.keys()].reverse() : [...targets.keys()];
  for (const k of order) runs[k].push(storm(targets[k], count));
}
for (const target of targets) await target.stop();

const bare = runs.at(-1);
console.log(
  `server CPU ms per v1 connect, ${pairs} storms of ${count} per server after ${warmup} each:`,
);
for (const [k, peer] of peers.entries()) {
  const ratios = runs[k].map((ms, pair) => ms / bare[pair]);
  const later = ratios.slice(Math.floor(pairs / 2));
  console.log(
    `${peer.padEnd(6)} median ${median(runs[k]).toFixed(3)} ms; ÷ bare: later half ${median(later).toFixed(2)}×, all ${median(ratios).toFixed(2)}× (${ratios.map((r) => r.toFixed(2)).join(' ')})`,
  );
}
