// Before/after of the cross-node relay cost on a shared machine: alternates
// `bench/cluster.mjs --only same,cross --json` between two built checkouts (this one and
// --base DIR, e.g. a `git worktree` of the commit to compare with, after `npm run build`
// there), --reps times each, and prints per-run figures and the medians: µs of CPU per relay
// (same node; across nodes: node a, node b, Redis) and the cross/same ratio (target ≤ 2).
//
//   node bench/cluster-ab.mjs --base /path/to/other/checkout [--reps 3] [any cluster.mjs flag]
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { optionTaker } from './lib/args.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
const base = take('base');
const reps = Number(take('reps', 3));
if (!base) {
  console.error('usage: node bench/cluster-ab.mjs --base DIR [--reps 3] [cluster.mjs flags]');
  process.exit(2);
}
const here = new URL('..', import.meta.url).pathname;
// The same bench script measures both builds: copied beside the other checkout's bench files
// (bench/.cluster-ab.mjs and bench/lib/cluster-procs.mjs there are overwritten).
copyFileSync(join(here, 'bench/cluster.mjs'), join(base, 'bench/.cluster-ab.mjs'));
copyFileSync(join(here, 'bench/lib/cluster-procs.mjs'), join(base, 'bench/lib/cluster-procs.mjs'));
const builds = [
  { name: 'base', script: join(base, 'bench/.cluster-ab.mjs'), runs: [] },
  { name: 'this', script: join(here, 'bench/cluster.mjs'), runs: [] },
];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (let rep = 0; rep < reps; rep++) {
  for (const build of rep % 2 ? [...builds].reverse() : builds) {
    const run = spawnSync(
      process.execPath,
      [build.script, '--only', 'same,cross', '--json', ...args],
      {
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.error(`${build.name}: run failed\n${run.stderr.slice(-2000)}`);
      process.exit(1);
    }
    const r = JSON.parse(line);
    const same = r.sameUs.reduce((a, b) => a + b, 0);
    const cross = r.crossUs.reduce((a, b) => a + b, 0);
    // The daemons' main threads alone (without V8's GC and compiler threads), when measured.
    const sameMain = r.sameMainUs?.[0] ?? Number.NaN;
    const crossMain = (r.crossMainUs?.[0] ?? Number.NaN) + (r.crossMainUs?.[1] ?? Number.NaN);
    build.runs.push({
      same,
      cross,
      ratio: r.ratio,
      sameMain,
      crossMain,
      nodes: r.crossUs,
      lost: r.lost,
      load: r.load,
    });
    console.log(
      `${build.name} rep ${rep + 1}: same ${same.toFixed(1)} µs, cross ${cross.toFixed(1)} µs (a ${r.crossUs[0]}, b ${r.crossUs[1]}, redis ${r.crossUs[2]}), ratio ${r.ratio}, main threads same ${sameMain.toFixed(1)} / cross ${crossMain.toFixed(1)} µs, entries ${r.crossCalls?.xadd ?? '?'} / reads ${r.crossCalls?.xreadgroup ?? '?'} per relay, lost ${r.lost}, load ${r.load[0][0]}→${r.load[1][0]}`,
    );
  }
}
for (const build of builds) {
  const m = (key) => median(build.runs.map((run) => run[key]));
  console.log(
    `${build.name} medians of ${reps}: same ${m('same').toFixed(1)} µs, cross ${m('cross').toFixed(1)} µs, ratio ${m('ratio').toFixed(2)}, main threads same ${m('sameMain').toFixed(1)} / cross ${m('crossMain').toFixed(1)} µs, lost ${build.runs.reduce((n, run) => n + run.lost, 0)}`,
  );
}
