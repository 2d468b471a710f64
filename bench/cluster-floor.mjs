// The CPU floor of a cross-node relay over Redis Streams (issue 17's "a cross-node relay
// costs ≤ 2× the server CPU of a same-node relay, Redis included"): what any design that
// routes relays through Redis Streams with consumer groups must spend per relay, measured
// with two bare Node processes and a real redis-server, none of our server code:
//
// - node A XADDs entries of k relay items (each ≈ the cluster's item: corr, deadline,
//   sender fields, recipient, cipher length and a --line-byte delivery line) to B's stream
//   (MAXLEN ~), one XADD in flight at a time, at most --budget items awaiting answers;
// - node B reads its stream with XREADGROUP (COUNT 256, BLOCK), splits the items at their
//   newlines, and answers each with its number on a line: one replies entry per read, XADDed
//   to A's stream in the pipeline of its next read, acknowledging (XACK + XTRIM MINID) every
//   256 entries, as src/server/cluster/cluster-inbox.ts does;
// - A reads the replies the same way and counts them.
// Layouts: `one-way` (A→B as above) and `both` (A⇄B: each sends half the items to the other,
// answers the other's and reads both kinds from one stream, as every node of
// `bench/cluster.mjs`'s split-pairs run does); --budget relays awaiting answers per sender
// (the cluster bench has 10 pairs × window 16 = 160 per direction).
//
// No TLS, no JSON, no routing, no delivery to a socket: those are in the same-node relay as
// well. What is left is the Redis hop itself. CPU (utime + stime, all threads) of Redis
// (and of its AOF-rewrite children), A and B from /proc over the measured items only, after
// a warm-up on the same processes; µs per relay item. Values `buffer`: entries built as
// Buffers, read with xreadgroupBuffer (no string conversion anywhere); `string`: as the
// cluster code does today (strings joined, read back as strings); `codec`: strings through
// the cluster's own codec and InFlight ring (dist/: build first). Redis runs with AOF on,
// as in bench/cluster.mjs.
//
//   node bench/cluster-floor.mjs [--k 8,30,53] [--modes buffer,string[,codec]] [--layouts one-way,both]
//                                [--items 300000] [--warmup 100000] [--budget 160] [--reps 1]
//                                [--line 200] [--compare] [--json] [--record]
// --compare: after each rep, one `bench/cluster.mjs --only same,cross` run (`npm run build`
// first); the report ends with the verdict: the floor at the cluster's batch size against
// its same-node relay (cross ≥ same + floor, so ≤ 2× needs floor ≤ same).
import { fork, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { commandCalls, redisCli, redisServer, stop } from './lib/cluster-procs.mjs';
import { CLK_TCK, cpuSeconds, loadAverage, machine, schedTimes } from './lib/proc.mjs';

const NODE = new URL('./lib/cluster-floor-node.mjs', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1];
};

// ---------------------------------------------------------------------------------------
// Parent.

/**
 * CPU-s of the children `pid` waited for (cutime + cstime): Redis's background AOF rewrites,
 * which the 100+ MB of entries a measurement appends can start.
 */
function childrenCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/** Background AOF rewrites Redis has done since it started. */
function aofRewrites(url) {
  return Number(/aof_rewrites:(\d+)/.exec(redisCli(url, ['INFO', 'persistence']) ?? '')?.[1] ?? 0);
}

function spawnChild(args) {
  const c = fork(NODE, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () =>
    new Promise((resolve, reject) => {
      c.once('message', resolve);
      c.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
  return { c, next };
}

/**
 * One measurement on fresh A and B: `one-way`, A sends all `items` to B, which answers;
 * `both`, each sends half to the other (every node of the cluster bench does both).
 */
async function measure(redisUrl, redisPid, { k, mode, layout }, items, warmup, budget) {
  const admin = new Redis(redisUrl);
  await admin.del('floor:inbox:a', 'floor:inbox:b');
  await admin.quit();
  const common = [
    '--mode',
    mode,
    '--url',
    redisUrl,
    '--budget',
    budget,
    '--line',
    opt('line', 200),
  ];
  const b = spawnChild(['--role', 'b', '--peer', 'a', '--k', layout === 'both' ? k : 0, ...common]);
  const a = spawnChild(['--role', 'a', '--peer', 'b', '--k', k, ...common]);
  await Promise.all([a.next(), b.next()]);
  const senders = layout === 'both' ? [a, b] : [a];
  const phase = async (n) => {
    const answers = senders.map((s) => s.next());
    for (const s of senders) s.c.send({ items: Math.ceil(n / senders.length) });
    return Promise.all(answers);
  };
  await phase(warmup);
  redisCli(redisUrl, ['CONFIG', 'RESETSTAT']);
  const pids = [redisPid, a.c.pid, b.c.pid];
  const rewrites0 = aofRewrites(redisUrl);
  const children0 = childrenCpuSeconds(redisPid);
  const cpu0 = pids.map(cpuSeconds);
  const main0 = pids.map((pid) => schedTimes(pid).run);
  const t0 = performance.now();
  const done = await phase(items);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]);
  const main = pids.map((pid, i) => schedTimes(pid).run - main0[i]);
  // (a rewrite started in the window may end, and be counted, a little after it)
  const rewrites = aofRewrites(redisUrl) - rewrites0;
  cpu[0] += childrenCpuSeconds(redisPid) - children0;
  const calls = commandCalls(redisUrl);
  for (const s of [a, b]) s.c.send({ stop: true });
  await Promise.all(
    [a.c, b.c].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))),
  );
  const us = (s) => +((s / items) * 1e6).toFixed(2);
  const relayEntries = done.reduce((n, d) => n + d.entries, 0);
  return {
    k,
    mode,
    layout,
    itemsPerSecond: Math.round(items / seconds),
    aofRewrites: rewrites,
    redisUs: us(cpu[0]),
    aUs: us(cpu[1]),
    bUs: us(cpu[2]),
    totalUs: us(cpu[0] + cpu[1] + cpu[2]),
    /** A's and B's main threads alone (the rest: V8's GC and compiler threads). */
    aMainUs: us(main[1]),
    bMainUs: us(main[2]),
    itemsPerRelayXadd: +(items / relayEntries).toFixed(1),
    itemsPerXadd: +(items / (calls.xadd ?? 1)).toFixed(1),
    itemsPerRead: +(items / (calls.xreadgroup ?? 1)).toFixed(1),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `--compare`: one `bench/cluster.mjs --only same,cross` run (needs `npm run build`). */
function clusterRun() {
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'bench/cluster.mjs'), '--only', 'same,cross', '--json'],
    { encoding: 'utf8', timeout: 600_000 },
  );
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{'))
    throw new Error(`bench/cluster.mjs failed:\n${run.stderr.slice(-2000)}`);
  const r = JSON.parse(line);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  return {
    same: sum(r.sameUs),
    cross: sum(r.crossUs),
    perXadd: 1 / r.crossCalls.xadd,
    perRead: 1 / r.crossCalls.xreadgroup,
  };
}

/**
 * The verdict of `--compare`: the floor (A⇄B rows, medians over the reps) at the batch size
 * the cluster bench ran at, against its same-node and cross-node relays.
 */
function verdict(rows, runs) {
  const same = median(runs.map((r) => r.same));
  const cross = median(runs.map((r) => r.cross));
  const perXadd = median(runs.map((r) => r.perXadd));
  const perRead = median(runs.map((r) => r.perRead));
  const lines = [
    `bench:cluster, interleaved (${runs.length} runs): same-node ${runs.map((r) => r.same.toFixed(1)).join(', ')} µs (median ${same.toFixed(1)}), cross-node ${runs.map((r) => r.cross.toFixed(1)).join(', ')} (median ${cross.toFixed(1)}, ${(cross / same).toFixed(2)}×), ${perXadd.toFixed(1)} relays per XADD, ${perRead.toFixed(1)} per XREADGROUP.`,
  ];
  const both = rows.filter((r) => r.layout === 'both');
  for (const mode of new Set(both.map((r) => r.mode))) {
    const byK = new Map();
    for (const r of both.filter((r) => r.mode === mode)) byK.set(r.k, [...(byK.get(r.k) ?? []), r]);
    const nearest = [...byK.values()].sort(
      (a, b) =>
        Math.abs(median(a.map((r) => r.itemsPerXadd)) - perXadd) -
        Math.abs(median(b.map((r) => r.itemsPerXadd)) - perXadd),
    )[0];
    if (!nearest) continue;
    const floor = median(nearest.map((r) => r.totalUs));
    lines.push(
      `Floor (${mode}, A⇄B, k = ${nearest[0].k}: ${median(nearest.map((r) => r.itemsPerXadd)).toFixed(1)} items per XADD, nearest the bench's) ${floor.toFixed(1)} µs = ${(floor / same).toFixed(2)} × same-node: a cross-node relay costs at least same + floor = ${((same + floor) / same).toFixed(2)} × same (${floor <= same ? `so ≤ 2× is reachable only if the cross path adds at most ${(same - floor).toFixed(1)} µs to them` : '≤ 2× is out of reach over Redis Streams'}); the daemons add ${(cross - same - floor).toFixed(1)} µs above both.`,
    );
  }
  return lines;
}

async function parent() {
  const ks = String(opt('k', '8,30,53')).split(',').map(Number);
  const modes = String(opt('modes', 'buffer,string')).split(',');
  const layouts = String(opt('layouts', 'one-way,both')).split(',');
  const items = Number(opt('items', 300_000));
  const warmup = Number(opt('warmup', 100_000));
  const budget = Number(opt('budget', 160));
  const reps = Number(opt('reps', 1));
  const dir = mkdtempSync(join(tmpdir(), 'sc-bench-cluster-floor-'));
  const info = machine();
  const load0 = loadAverage();
  const rows = [];
  const runs = [];
  const compare = argv.includes('--compare');
  const started = new Date();
  const redis = await redisServer(dir);
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const k of ks)
        for (const layout of layouts)
          for (const mode of modes) {
            const shape = { k, mode, layout };
            const row = await measure(redis.url, redis.child.pid, shape, items, warmup, budget);
            process.stderr.write(`${JSON.stringify(row)}\n`);
            rows.push(row);
          }
      // Interleaved with the floor's reps, so both see the same load.
      if (compare) runs.push(clusterRun());
    }
  } finally {
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
  const load1 = loadAverage();
  const hhmm = (d) => d.toISOString().slice(11, 16);
  const report = [
    '',
    `## ${started.toISOString().slice(0, 10)} ${hhmm(started)}–${hhmm(new Date())} UTC — cross-node relay CPU floor over Redis Streams (issue 17, bench/cluster-floor.mjs) — ${info.model}, ${info.cores} cores, Node ${info.node}`,
    `Command: \`node bench/cluster-floor.mjs ${argv.join(' ')}\` — ${items.toLocaleString('en-US')} relay items measured after ${warmup.toLocaleString('en-US')} unmeasured on the same processes, ≤ ${budget} items awaiting answers, one relay XADD in flight; load average ${load0.join(' ')} before, ${load1.join(' ')} after (shared machine: indicative). µs of CPU per relay item (utime+stime, all threads).`,
    '',
    '| items per relay entry | relays | values | Redis µs (with its AOF rewrites) | A µs | B µs | floor µs (sum) | items per XADD (relays + replies) | items per XREADGROUP | items/s | AOF rewrites |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.itemsPerRelayXadd} | ${r.layout === 'both' ? 'A⇄B' : 'A→B'} | ${r.mode} | ${r.redisUs} | ${r.aUs} | ${r.bUs} | **${r.totalUs}** | ${r.itemsPerXadd} | ${r.itemsPerRead} | ${r.itemsPerSecond.toLocaleString('en-US')} | ${r.aofRewrites} |`,
    ),
    '',
    ...(compare ? [...verdict(rows, runs), ''] : []),
  ].join('\n');
  process.stdout.write(report);
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(rows)}\n`);
  if (argv.includes('--record')) appendFileSync(join(ROOT, 'bench/RESULTS.md'), report);
}

parent().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
