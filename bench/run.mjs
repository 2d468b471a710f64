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
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage, machine, machineBusy } from './lib/proc.mjs';
import { benchScenarios } from './lib/run-scenarios.mjs';
import { PIPELINED_LABEL, pipelinedCounts } from './pipelined.mjs';
import { renderReport } from './report.mjs';
import {
  ensurePackages,
  has,
  killAll,
  makeCertificate,
  oursAvailable,
  SERVER_CPU,
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
  // The same storm after the JIT settled (ours and bare only: the C daemons do not warm up).
  admissionWarm: quick ? 200 : 2000,
  admissionWarmWarmup: quick ? 500 : 4000,
  roomMembers: quick ? 100 : 1000,
  mailboxMessages: quick ? 1000 : 10_000,
  attacks: quick
    ? { keys: 30, skipped: 2000, identities: 5, sessions: 4, probes: 5 }
    : { keys: 300, skipped: 2000, identities: 25, sessions: 4, probes: 20 },
  cryptoSeconds: quick ? 0.5 : 2,
};

const {
  loadgen,
  relayScenario,
  idleScenario,
  admissionScenario,
  mailboxScenario,
  attacksScenario,
  roomsScenario,
} = benchScenarios({
  cert,
  certDir,
  counts,
  peers,
  reps,
  quick,
  large,
  note,
  loadgenCpu: LOADGEN_CPU,
  oursArgs: options['ours-args'],
});

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
