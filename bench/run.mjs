// `npm run bench`: our server against ngircd, InspIRCd and a bare Node forwarder, on the same
// machine, with the same workload, in the same run. Server on CPU 0, load generator (a
// separate process) on CPU 1. Results are printed, appended to bench/RESULTS.md and written
// to bench/results/latest.json. See bench/README.md.
//
//   npm run bench                          3 repetitions per scenario, medians
//   npm run bench -- --quick               small counts, 1 repetition (smoke test; not appended
//                                          to RESULTS.md unless --record)
//   npm run bench -- --large               idle scale with 10,000 clients
//   npm run bench -- --only relay,idle     relay (50 pairs, 1 pair, round trip), rtt, idle,
//                                          admission, crypto, rooms, mailbox, attacks
//   BENCH_BASELINE_CLI=/old/bin/securechat  attacks: also measure an older client, to compare
//   npm run bench -- --peers ours,bare     any of ours, bare, ngircd, inspircd
//   npm run bench -- --reps 5              repetitions (default 3; 1 with --quick)
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, machine, machineBusy, nofilePrefix, rssBytes } from './lib/proc.mjs';
import { medianOf } from './lib/stats.mjs';
import { PIPELINED_LABEL, pipelinedCounts } from './pipelined.mjs';
import { renderReport } from './report.mjs';
import {
  ensurePackages,
  has,
  killAll,
  makeCertificate,
  oursAvailable,
  SERVER_CPU,
  TARGETS,
} from './servers.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const SCENARIOS = [
  'relay',
  'pipelined',
  'rtt',
  'idle',
  'admission',
  'crypto',
  'rooms',
  'mailbox',
  'attacks',
  'cluster',
  'files',
];
const PEERS = ['ours', 'bare', 'ngircd', 'inspircd'];

function usage(message) {
  console.error(`${message}
usage: npm run bench -- [--quick] [--large] [--only ${SCENARIOS.join(',')}]
                        [--peers ${PEERS.join(',')}] [--reps N] [--record]
                        [--ours-args "FLAGS"]  (more \`serve\` flags for our server, e.g. --no-plaintext-reply)`);
  process.exit(2);
}

const argv = process.argv.slice(2);
const FLAGS = new Set(['quick', 'large', 'record']);
const VALUED = new Set(['only', 'peers', 'reps', 'ours-args']);
const options = {};
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].replace(/^--/, '');
  if (FLAGS.has(name)) options[name] = true;
  else if (VALUED.has(name) && argv[i + 1] !== undefined) options[name] = argv[++i];
  else usage(`unknown or incomplete option: ${argv[i]}`);
}
const quick = Boolean(options.quick);
const large = Boolean(options.large);
const only = new Set((options.only ?? SCENARIOS.join(',')).split(','));
for (const s of only) if (!SCENARIOS.includes(s)) usage(`unknown scenario: ${s}`);
if (only.has('relay')) only.add('rtt'); // "relay" means all three relay scenarios
if ([...only].every((s) => s === 'cluster' || s === 'files')) {
  if (only.has('cluster')) runCluster();
  if (only.has('files')) runFiles();
  process.exit(0);
}

/** File transfer (bench/files.mjs): 200 MiB through the chunk store vs openssl over TLS. */
function runFiles() {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'bench/files.mjs'),
      ...(quick ? ['--mib', '20'] : []),
      ...(options.record || !quick ? ['--record'] : []),
    ],
    { stdio: 'inherit' },
  );
}

/** Scale-out over Redis (bench/cluster.mjs): its own processes and report section. */
function runCluster() {
  if (!has('redis-server')) ensurePackages({ 'redis-server': 'redis-server' });
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'bench/cluster.mjs'),
      ...(quick ? ['--pairs', '4', '--messages', '200'] : []),
      ...(!quick || options.record ? ['--record'] : []),
    ],
    { stdio: 'inherit' },
  );
}
let peers = (options.peers ?? PEERS.join(',')).split(',');
for (const p of peers) if (!PEERS.includes(p)) usage(`unknown peer: ${p}`);
const reps = Number(options.reps ?? (quick ? 1 : 3));
if (!Number.isInteger(reps) || reps < 1 || reps > 20) usage('--reps must be 1..20');

const notes = [];
const note = (text) => {
  notes.push(text);
  console.error(`note: ${text}`);
};

const LOADGEN_CPU = process.env.BENCH_LOADGEN_CPU ?? (cpus().length > 1 ? '1' : '0');
if (LOADGEN_CPU === SERVER_CPU)
  note(`only one CPU: server and load generator share CPU ${SERVER_CPU}`);

// Peers: the IRC daemons are Debian packages, installed when missing.
const missing = ensurePackages({
  ...(peers.includes('ngircd') ? { ngircd: 'ngircd' } : {}),
  ...(peers.includes('inspircd') ? { inspircd: 'inspircd' } : {}),
  taskset: 'util-linux',
  prlimit: 'util-linux',
  ...(existsSync(join(ROOT, 'dist/server/certs.js')) ? {} : { openssl: 'openssl' }),
});
if (missing.includes('util-linux')) usage('taskset/prlimit (util-linux) are required');
for (const peer of ['ngircd', 'inspircd']) {
  if (peers.includes(peer) && missing.includes(peer)) {
    note(`${peer} could not be installed: left out of this run`);
    peers = peers.filter((p) => p !== peer);
  }
}
if (peers.includes('ours') && !oursAvailable()) {
  note('our server is not built (dist/cli.js missing): left out of this run');
  peers = peers.filter((p) => p !== 'ours');
}
if (peers.length === 0) usage('no server left to measure');

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
process.on('exit', killAll);

// One throwaway ECDSA P-256 certificate for every server (temp dir, never committed).
const certDir = mkdtempSync(join(tmpdir(), 'securechat-bench-'));
const cert = await makeCertificate(certDir);

const counts = {
  relay50: { pairs: 50, messages: quick ? 200 : 2000, window: 32, warmup: quick ? 50 : 300 },
  relay1: { pairs: 1, messages: quick ? 2000 : 30_000, window: 32, warmup: quick ? 200 : 2000 },
  rtt: { pairs: 1, messages: quick ? 300 : 3000, window: 1, warmup: quick ? 50 : 300 },
  pipelined: pipelinedCounts(quick),
  grace: quick ? 1000 : 2000,
  idle: large ? 10_000 : quick ? 200 : 2000,
  admission: quick ? 100 : 500,
  admissionWarmup: quick ? 20 : 200,
  admissionConcurrency: 8,
  roomMembers: quick ? 100 : 1000,
  mailboxMessages: quick ? 1000 : 10_000,
  attacks: quick
    ? { keys: 30, skipped: 2000, identities: 5, sessions: 4, probes: 5 }
    : { keys: 300, skipped: 2000, identities: 25, sessions: 4, probes: 20 },
  cryptoSeconds: quick ? 0.5 : 2,
};

/** Runs a bench script on the load-generator CPU; resolves with its last JSON line. */
function loadgen(script, args, { onLine, prefix = [] } = {}) {
  return new Promise((resolve, reject) => {
    const command = [
      ...prefix,
      'taskset',
      '-c',
      LOADGEN_CPU,
      process.execPath,
      join(ROOT, 'bench', script),
      ...args,
    ];
    const proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let pending = '';
    proc.stdout.on('data', (d) => {
      out += d;
      pending += d;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        onLine?.(pending.slice(0, newline), proc);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').pop();
      try {
        const parsed = JSON.parse(last);
        if (parsed.error) reject(new Error(parsed.error));
        else resolve(parsed);
      } catch {
        reject(new Error(`${script} exited ${code}: ${out.slice(-300)}`));
      }
    });
  });
}

const targetArgs = (target) => [
  '--port',
  String(target.port),
  '--ca',
  cert.certPath,
  '--server-pid',
  String(target.pid),
];

/** Runs `fn` against each peer `reps` times, a fresh server each time; keeps medians. */
async function medianRuns(label, fn, targets = peers, serverOptions = {}) {
  const out = {};
  for (const peer of targets) {
    const runs = [];
    for (let r = 0; r < reps; r++) {
      const given = typeof serverOptions === 'function' ? serverOptions() : serverOptions;
      const target = await TARGETS[peer](cert, peer === 'ours' ? withOursArgs(given) : given);
      try {
        runs.push(await fn(target));
      } catch (error) {
        console.error(`  ${label} ${peer}: ${error.message}`);
      } finally {
        await target.stop();
      }
    }
    if (runs.length > 0) out[peer] = medianOf(runs);
    else out[peer] = { error: 'every repetition failed' };
    console.error(`  ${label} ${peer}: ${JSON.stringify(out[peer]).slice(0, 240)}`);
  }
  return out;
}

/** `--ours-args`: serve flags added to our server's in every scenario (after the bench's own). */
function withOursArgs(serverOptions) {
  const extra = options['ours-args']?.split(/\s+/).filter(Boolean) ?? [];
  if (extra.length === 0) return serverOptions;
  return { ...serverOptions, extraArgs: [...(serverOptions.extraArgs ?? []), ...extra] };
}

function relayScenario(label, scenario) {
  return medianRuns(label, async (target) => {
    const result = await loadgen('loadgen.mjs', [
      'relay',
      '--proto',
      target.proto,
      ...targetArgs(target),
      '--pairs',
      String(scenario.pairs),
      '--messages',
      String(scenario.messages),
      '--window',
      String(scenario.window),
      '--warmup',
      String(scenario.warmup),
      '--grace',
      String(counts.grace),
      '--timeout',
      '600',
      ...(scenario.turns ? ['--turns', '1'] : []),
    ]);
    const { latencyMs, ...rest } = result;
    return {
      ...rest,
      p50Ms: latencyMs.p50,
      p90Ms: latencyMs.p90,
      p99Ms: latencyMs.p99,
      maxMs: latencyMs.max,
    };
  });
}

async function idleScenario() {
  const count = counts.idle;
  // Each side holds `count` sockets (plus the probe, listeners, logs, libraries).
  const { prefix, limit } = nofilePrefix(count + 256);
  console.error(`  idle: ${count} clients, file descriptor limit ${limit} per process`);
  return medianRuns(
    'idle',
    async (target) => {
      await new Promise((r) => setTimeout(r, 500));
      const baselineRss = rssBytes(target.pid);
      let held;
      await loadgen(
        'loadgen.mjs',
        [
          'idle',
          '--proto',
          target.proto,
          '--kind',
          target.kind === 'ours' || target.kind === 'bare' ? target.kind : 'irc',
          '--port',
          String(target.port),
          '--ca',
          cert.certPath,
          '--count',
          String(count),
          '--probes',
          quick ? '20' : '50',
          '--timeout',
          large ? '900' : '300',
        ],
        {
          prefix,
          onLine: (line, proc) => {
            if (line.startsWith('{"holding"')) {
              held = JSON.parse(line);
              // Let allocations settle, read the RSS, then probe the loaded event loop.
              setTimeout(() => {
                held.rss = rssBytes(target.pid);
                proc.stdin.write('PROBE\n');
              }, 2000);
            } else if (line.startsWith('{"probe"')) {
              held.probe = JSON.parse(line).probe;
              proc.stdin.end();
            }
          },
        },
      ).catch((error) => {
        if (!held?.probe) throw error;
      });
      if (!held?.probe) throw new Error('idle: no probe result');
      if (held.helloNote) note(`idle ${target.name}: ${held.helloNote}`);
      if (held.retries || held.failures)
        note(
          `idle ${target.name}: ${held.retries} registration(s) retried, ${held.failures} failed after 3 attempts (first error: ${held.firstFailure})`,
        );
      return {
        clients: held.holding,
        failures: held.failures,
        retries: held.retries,
        firstFailure: held.firstFailure,
        hello: held.hello,
        probeKind: held.probeKind,
        registrationSeconds: held.registrationSeconds,
        rssPerConnectionKiB: (held.rss - baselineRss) / held.holding / 1024,
        rssBaselineMiB: baselineRss / 1024 / 1024,
        rssMiB: held.rss / 1024 / 1024,
        lagBaselineP50Ms: held.baseline.p50,
        lagBaselineP99Ms: held.baseline.p99,
        lagP50Ms: held.probe.p50,
        lagP99Ms: held.probe.p99,
        lagMaxMs: held.probe.max,
        lagTimeouts: held.probe.timeouts,
      };
    },
    peers,
    { prefix },
  );
}

function admissionRuns(label, proto, targets) {
  return medianRuns(
    label,
    (target) =>
      loadgen('loadgen.mjs', [
        'admission',
        '--proto',
        proto,
        ...targetArgs(target),
        '--count',
        String(counts.admission),
        '--concurrency',
        String(counts.admissionConcurrency),
        '--warmup',
        String(counts.admissionWarmup),
        '--timeout',
        '600',
      ]),
    targets,
  );
}

async function admissionScenario() {
  const sc = peers.filter((p) => p === 'ours' || p === 'bare');
  const irc = peers.filter((p) => p === 'ngircd' || p === 'inspircd');
  const out = {
    ...(await admissionRuns('admission v1', 'sc', sc)),
    ...(await admissionRuns('admission irc', 'irc', irc)),
  };
  // The v2 hello with the identity proof (two Ed25519 verifications on the server).
  const v2 = peers.includes('ours') ? await admissionRuns('admission v2', 'sc2', ['ours']) : {};
  return { v1: out, v2 };
}

/** One user receives `mailboxMessages` stored messages on login, in pages (securechat only). */
function mailboxScenario() {
  return medianRuns(
    'mailbox',
    async (target) => {
      const result = await loadgen('mailbox.mjs', [
        ...targetArgs(target),
        '--messages',
        String(counts.mailboxMessages),
        '--bytes',
        '512',
      ]);
      if (result.error) throw new Error(result.error);
      return result;
    },
    ['ours'],
    // Stored messages on disk, as deployed (SQLite WAL in a fresh file per repetition).
    () => ({ extraArgs: ['--data', join(mkdtempSync(join(certDir, 'mailbox-')), 'state.db')] }),
  );
}

/**
 * The memory attacks on a client of issue 12 (a room member handing out many sender keys,
 * throw-away identities opening sessions): a real client's RSS, state size and message
 * latency, for this build and, with BENCH_BASELINE_CLI, an older one (securechat only).
 */
async function attacksScenario() {
  const clients = {
    after: join(ROOT, 'bin/securechat'),
    ...(process.env.BENCH_BASELINE_CLI ? { before: process.env.BENCH_BASELINE_CLI } : {}),
  };
  const out = {};
  for (const [label, cli] of Object.entries(clients)) {
    const runs = await medianRuns(
      `client attacks (${label})`,
      async (target) => {
        const result = await loadgen('client-attacks.mjs', [
          ...targetArgs(target),
          '--cli',
          cli,
          ...Object.entries(counts.attacks).flatMap(([k, v]) => [`--${k}`, String(v)]),
        ]);
        return Object.fromEntries(
          ['rooms', 'sessions'].flatMap((part) =>
            Object.entries(result[part]).map(([k, v]) => [`${part}.${k}`, v]),
          ),
        );
      },
      ['ours'],
    );
    out[label] = runs.ours;
  }
  return out;
}

function roomsScenario() {
  return medianRuns(
    'rooms',
    async (target) => {
      const result = await loadgen('rooms.mjs', [
        ...targetArgs(target),
        '--members',
        String(counts.roomMembers),
        '--senders',
        '10',
        '--messages',
        quick ? '20' : '100',
      ]);
      return {
        members: result.members,
        fanoutP50Ms: result.fanoutMs.p50,
        fanoutMaxMs: result.fanoutMs.max,
        busyDeliveriesPerSecond: result.busy.deliveriesPerSecond,
        busyDeliveriesPerServerCpuSecond: result.busy.deliveriesPerServerCpuSecond,
        delivered: result.busy.deliveries,
        expected: result.busy.expected,
      };
    },
    ['ours'],
  );
}

const results = {
  date: new Date().toISOString(),
  machine: machine(),
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  peers,
  reps,
  quick,
  counts,
  cpus: { server: SERVER_CPU, loadgen: LOADGEN_CPU },
  certificate: cert.source,
  loadAverageBefore: loadAverage(),
  versions: {
    ngircd: peers.includes('ngircd')
      ? execFileSync('sh', ['-c', 'ngircd --version | head -1'], { encoding: 'utf8' }).trim()
      : undefined,
    inspircd: peers.includes('inspircd')
      ? execFileSync('inspircd', ['--version'], { encoding: 'utf8' }).trim()
      : undefined,
  },
  notes,
};
// The 1-minute load average still counts the build that just ran: sample the CPUs instead.
results.busyBefore = await machineBusy(2000);
if (results.busyBefore > 0.1)
  note(
    `the machine was not idle when the run started (${Math.round(100 * results.busyBefore)} % of all CPUs busy over 2 s): other work competes for the cores`,
  );
console.error(
  `bench on ${results.machine.model} (${results.machine.cores} cores), Node ${results.machine.node}; peers: ${peers.join(', ')}; ${reps} repetition(s)`,
);

try {
  if (only.has('relay')) {
    results.relay50 = await relayScenario('relay 50 pairs', counts.relay50);
    results.relay1 = await relayScenario('relay 1 pair', counts.relay1);
  }
  if (only.has('rtt')) results.rtt = await relayScenario('round trip (1 in flight)', counts.rtt);
  if (only.has('pipelined'))
    results.pipelined = await relayScenario(PIPELINED_LABEL, counts.pipelined);
  if (only.has('idle')) results.idle = await idleScenario().catch((e) => ({ error: e.message }));
  if (only.has('admission')) results.admission = await admissionScenario();
  if (only.has('rooms') && peers.includes('ours')) results.rooms = await roomsScenario();
  if (only.has('mailbox') && peers.includes('ours')) results.mailbox = await mailboxScenario();
  if (only.has('attacks') && peers.includes('ours')) results.attacks = await attacksScenario();
  if (only.has('crypto') && existsSync(join(ROOT, 'dist/protocol/index.js')))
    results.crypto = await loadgen('crypto.mjs', [String(counts.cryptoSeconds)]);
} finally {
  rmSync(certDir, { recursive: true, force: true });
}
results.loadAverageAfter = loadAverage();
results.busyAfter = await machineBusy(2000);

for (const [scenario, data] of Object.entries({
  relay50: results.relay50,
  relay1: results.relay1,
  rtt: results.rtt,
  pipelined: results.pipelined,
})) {
  for (const [peer, r] of Object.entries(data ?? {})) {
    if (r.stranded > 0 || r.lost > 0 || r.unsent > 0)
      note(
        `${scenario} ${peer}: ${r.stranded} message(s) stranded (arrived only after more input, up to ${Math.round(r.strandedLatencyMaxMs ?? 0)} ms late), ${r.lost} lost, ${r.unsent} never sent (window stalled) of ${r.sent + r.unsent}, over ${r.runs} run(s)`,
      );
    if (r.otherCpuSeconds > Math.max(0.05, 0.1 * r.serverCpuSeconds))
      note(
        `${scenario} ${peer}: other processes used ${r.otherCpuSeconds.toFixed(2)} CPU-s during the measured window (server: ${r.serverCpuSeconds.toFixed(2)}): figures disturbed`,
      );
    if (r.stolenCpuSeconds > Math.max(0.05, 0.1 * r.serverCpuSeconds))
      note(
        `${scenario} ${peer}: the hypervisor stole ${r.stolenCpuSeconds.toFixed(2)} CPU-s during the measured window (server: ${r.serverCpuSeconds.toFixed(2)})`,
      );
    if (r.serverErrors > 0)
      note(`${scenario} ${peer}: ${r.serverErrors} error frame(s), first: ${r.firstServerError}`);
  }
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
const report = renderReport(results);
console.log(report);
const resultsFile = join(ROOT, 'bench/RESULTS.md');
if (!existsSync(resultsFile))
  writeFileSync(
    resultsFile,
    '# Benchmark results\n\nAppended by `npm run bench`; newest last. See bench/README.md for what each figure means.\n',
  );
if (!quick || options.record) appendFileSync(resultsFile, `\n${report}\n`);
else console.error('(quick run: not appended to bench/RESULTS.md; add --record to append)');

if (only.has('cluster')) runCluster();
if (only.has('files')) runFiles();
