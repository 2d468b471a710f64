// Before/after of the v1 admission cost on a shared machine: server CPU ms per v1 connect
// (the load generator of `run.mjs --only admission`: TLS + hello + welcome + close, 8 at a
// time, after a warm-up) for this build, optional variants of it (more `serve` flags), a
// built checkout of another commit (--base DIR) and the bare forwarder, interleaved round by
// round with a fresh server per run; prints per-run figures, medians and ratios to bare.
//
// `--floor` adds our TLS listener with the bare forwarder's work on top
// (bench/admission-floor.mjs): ours ÷ floor is what sessions cost, floor ÷ bare what the
// listener costs.
//
// `--node-variant "name=NODE FLAGS"` runs this build under other Node/V8 flags (for example
// `tierup=--interrupt-budget=4096`: how much of a just-started daemon's cost is V8 tiering
// up, not our code).
//
//   node bench/admission-ab.mjs [--base DIR] [--reps 5] [--count 1000] [--warmup 200]
//                               [--floor] [--variant "off=--no-plaintext-reply"]...
//                               [--node-variant "tierup=--interrupt-budget=4096"]...
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admissionStorm } from './lib/admission-storm.mjs';
import { optionTaker } from './lib/args.mjs';
import { loadAverage } from './lib/proc.mjs';
import { median } from './lib/stats.mjs';
import { killAll, makeCertificate, TARGETS } from './servers.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
/** `name=FLAGS` → { name, flags }. */
const variant = (v) => {
  const [name, ...flags] = v.split('=');
  return { name, flags: flags.join('=').split(/\s+/).filter(Boolean) };
};
const variants = [];
for (let v = take('variant'); v !== undefined; v = take('variant')) variants.push(variant(v));
const nodeVariants = [];
for (let v = take('node-variant'); v !== undefined; v = take('node-variant'))
  nodeVariants.push(variant(v));
const base = take('base');
const floorAt = args.indexOf('--floor');
const floor = floorAt !== -1;
if (floor) args.splice(floorAt, 1);
const reps = Number(take('reps', 5));
const count = Number(take('count', 1000));
const warmup = Number(take('warmup', 200));
if (args.length > 0 || !(reps > 0) || !(count > 0) || !(warmup >= 0)) {
  console.error(
    'usage: node bench/admission-ab.mjs [--base DIR] [--reps 5] [--count 1000] [--warmup 200] [--floor] [--variant "name=SERVE FLAGS"]... [--node-variant "name=NODE FLAGS"]...',
  );
  process.exit(2);
}
const baseServers = base ? await import(join(base, 'bench/servers.mjs')) : undefined;
const baseTargets = baseServers?.TARGETS;
const builds = [
  ...(baseTargets ? [{ name: 'base', start: (cert) => baseTargets.ours(cert) }] : []),
  { name: 'this', start: (cert) => TARGETS.ours(cert) },
  ...variants.map((v) => ({
    name: v.name,
    start: (cert) => TARGETS.ours(cert, { extraArgs: v.flags }),
  })),
  ...nodeVariants.map((v) => ({
    name: v.name,
    start: (cert) => TARGETS.ours(cert, { nodeArgs: v.flags }),
  })),
  ...(floor ? [{ name: 'floor', start: (cert) => TARGETS.floor(cert) }] : []),
  { name: 'bare', start: (cert) => TARGETS.bare(cert) },
];
for (const build of builds) build.runs = [];

const certDir = mkdtempSync(join(tmpdir(), 'securechat-admission-ab-'));
process.on('exit', () => {
  killAll();
  baseServers?.killAll();
  rmSync(certDir, { recursive: true, force: true });
});
const cert = await makeCertificate(certDir);

/** One measured storm against `target` (a fresh server), on the load-generator CPU. */
const storm = (target) => admissionStorm(target, cert, { count, warmup }).serverCpuMsPerConnect;

for (let rep = 0; rep < reps; rep++) {
  for (const build of rep % 2 ? [...builds].reverse() : builds) {
    const target = await build.start(cert);
    try {
      build.runs.push(storm(target));
    } finally {
      await target.stop();
    }
    console.log(
      `round ${rep + 1} ${build.name}: ${build.runs.at(-1).toFixed(2)} ms (load ${loadAverage()[0]})`,
    );
  }
}
const bare = median(builds.at(-1).runs);
console.log(
  `\nserver CPU ms per v1 connect, medians of ${reps} (${count} connects each, after ${warmup}):`,
);
for (const build of builds) {
  const m = median(build.runs);
  const runs = build.runs.map((x) => x.toFixed(2)).join(', ');
  console.log(
    `${build.name.padEnd(8)} ${m.toFixed(2)}  ÷ bare ${(m / bare).toFixed(2)}×  (${runs})`,
  );
}
