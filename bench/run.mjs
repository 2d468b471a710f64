// `npm run bench`: our server against ngircd, InspIRCd and a bare Node forwarder, same
// machine, same workload, same run. Server on CPU 0, load generator on CPU 1. Results are
// printed, appended to bench/RESULTS.md and written to bench/results/latest.json.
//
//   npm run bench                       default run (3 repetitions, medians)
//   npm run bench -- --quick            small counts, 1 repetition (smoke test)
//   npm run bench -- --large            idle scale with 10,000 clients
//   npm run bench -- --only relay,idle  any of: relay, rtt, idle, admission, crypto, rooms
//   npm run bench -- --peers ours,bare  any of: ours, bare, ngircd, inspircd
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, rssBytes } from './lib/proc.mjs';
import { medianOf } from './lib/stats.mjs';
import { ensurePackages, TARGETS } from './servers.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1];
};
const quick = flag('quick');
const large = flag('large');
const only = new Set(option('only', 'relay,rtt,idle,admission,crypto,rooms').split(','));
let peers = option('peers', 'ours,bare,ngircd,inspircd').split(',');
const reps = quick ? 1 : Number(option('reps', 3));
const LOADGEN_CPU = process.env.BENCH_LOADGEN_CPU ?? '1';
const ROOT = new URL('..', import.meta.url).pathname;
const started = new Date();

const missing = ensurePackages({
  ...(peers.includes('ngircd') ? { ngircd: 'ngircd' } : {}),
  ...(peers.includes('inspircd') ? { inspircd: 'inspircd' } : {}),
  taskset: 'util-linux',
});
if (missing.length > 0) {
  console.error(`could not install ${missing.join(', ')}: leaving those peers out`);
  peers = peers.filter((p) => !missing.includes(p));
}

// One throwaway ECDSA P-256 certificate for every server (never committed).
const dir = mkdtempSync(join(tmpdir(), 'securechat-bench-'));
const { generateSelfSignedCertificate } = await import(
  new URL('../dist/server/certs.js', import.meta.url).href
);
const generated = await generateSelfSignedCertificate('bench');
const cert = { certPath: join(dir, 'bench.crt'), keyPath: join(dir, 'bench.key') };
writeFileSync(cert.certPath, generated.certPem);
writeFileSync(cert.keyPath, generated.keyPem, { mode: 0o600 });

function loadgen(args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      'taskset',
      ['-c', LOADGEN_CPU, process.execPath, join(ROOT, 'bench/loadgen.mjs'), ...args],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      input?.(String(d), proc);
    });
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').pop();
      try {
        const parsed = JSON.parse(last);
        if (parsed.error) reject(new Error(parsed.error));
        else resolve(parsed);
      } catch {
        reject(new Error(`loadgen exited ${code}: ${out.slice(-300)}`));
      }
    });
  });
}

async function withServer(name, fn) {
  const target = await TARGETS[name](cert);
  try {
    return await fn(target);
  } finally {
    await target.stop();
  }
}

const scenarios = {
  relay50: { pairs: 50, messages: quick ? 300 : 2000, window: 32, warmup: quick ? 50 : 300 },
  relay1: { pairs: 1, messages: quick ? 2000 : 30000, window: 32, warmup: quick ? 200 : 2000 },
  rtt: { pairs: 1, messages: quick ? 300 : 3000, window: 1, warmup: quick ? 50 : 300 },
};

async function relayScenario(name, scenario) {
  return medianRuns(name, async (target) =>
    loadgen([
      'relay',
      '--proto',
      target.proto,
      '--port',
      String(target.port),
      '--ca',
      cert.certPath,
      '--server-pid',
      String(target.pid),
      '--pairs',
      String(scenario.pairs),
      '--messages',
      String(scenario.messages),
      '--window',
      String(scenario.window),
      '--warmup',
      String(scenario.warmup),
    ]).then(flatten),
  );
}

function flatten(result) {
  const { latencyMs, ...rest } = result;
  return {
    ...rest,
    p50Ms: latencyMs.p50,
    p90Ms: latencyMs.p90,
    p99Ms: latencyMs.p99,
    maxMs: latencyMs.max,
  };
}

/** Runs `fn` against each peer `reps` times (a fresh server each time) and keeps medians. */
async function medianRuns(label, fn, targets = peers) {
  const out = {};
  for (const peer of targets) {
    const runs = [];
    for (let r = 0; r < reps; r++) {
      try {
        runs.push(await withServer(peer, fn));
      } catch (error) {
        console.error(`  ${label} ${peer}: ${error.message}`);
      }
    }
    if (runs.length > 0) out[peer] = medianOf(runs);
    console.error(`  ${label} ${peer}: ${JSON.stringify(out[peer] ?? 'failed').slice(0, 220)}`);
  }
  return out;
}

async function idleScenario() {
  const count = large ? 10_000 : quick ? 300 : 2000;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  if (limit < count + 200)
    throw new Error(
      `ulimit -n is ${limit}: raise it to at least ${count + 200} for ${count} idle clients`,
    );
  return medianRuns(
    'idle',
    async (target) => {
      await new Promise((r) => setTimeout(r, 500));
      const baseline = rssBytes(target.pid);
      let holding;
      const result = await loadgen(
        [
          'idle',
          '--proto',
          target.proto === 'sc' ? 'sc2' : 'irc',
          '--port',
          String(target.port),
          '--ca',
          cert.certPath,
          '--count',
          String(count),
          '--probes',
          '50',
          '--timeout',
          '300',
        ],
        {
          input: (chunk, proc) => {
            for (const line of chunk.split('\n')) {
              if (line.startsWith('{"holding"')) {
                holding = JSON.parse(line);
                setTimeout(() => {
                  holding.rss = rssBytes(target.pid);
                  proc.stdin.write('PROBE\n');
                }, 1500);
              } else if (line.startsWith('{"probe"')) {
                holding.probe = JSON.parse(line).probe;
                proc.stdin.end();
              }
            }
          },
        },
      ).catch((e) => (holding?.probe ? holding : Promise.reject(e)));
      void result;
      return {
        clients: holding.holding,
        rssPerConnectionKiB: (holding.rss - baseline) / holding.holding / 1024,
        rssMiB: holding.rss / 1024 / 1024,
        probeP50Ms: holding.probe.p50,
        probeP99Ms: holding.probe.p99,
      };
    },
    peers.filter((p) => p !== 'bare'),
  );
}

async function admissionScenario() {
  const count = quick ? 100 : 400;
  const out = {};
  for (const [label, proto, targets] of [
    ['v1', 'sc', peers.filter((p) => p !== 'ngircd' && p !== 'inspircd')],
    ['v2', 'sc2', peers.filter((p) => p === 'ours')],
    ['irc', 'irc', peers.filter((p) => p === 'ngircd' || p === 'inspircd')],
  ]) {
    const results = await medianRuns(
      `admission ${label}`,
      (target) =>
        loadgen([
          'admission',
          '--proto',
          proto,
          '--port',
          String(target.port),
          '--ca',
          cert.certPath,
          '--server-pid',
          String(target.pid),
          '--count',
          String(count),
          '--concurrency',
          '4',
        ]),
      targets,
    );
    for (const [peer, result] of Object.entries(results))
      out[`${peer}${label === 'irc' ? '' : ` ${label}`}`] = result;
  }
  return out;
}

async function roomsScenario() {
  const members = quick ? 100 : 1000;
  return medianRuns(
    'rooms',
    async (target) => {
      const result = await new Promise((resolve, reject) => {
        const proc = spawn(
          'taskset',
          [
            '-c',
            LOADGEN_CPU,
            process.execPath,
            join(ROOT, 'bench/rooms.mjs'),
            '--port',
            String(target.port),
            '--ca',
            cert.certPath,
            '--server-pid',
            String(target.pid),
            '--members',
            String(members),
            '--senders',
            '10',
            '--messages',
            quick ? '20' : '100',
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        proc.stdout.on('data', (d) => (out += d));
        proc.on('exit', () => {
          try {
            resolve(JSON.parse(out.trim().split('\n').pop()));
          } catch {
            reject(new Error(out));
          }
        });
      });
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
    peers.filter((p) => p === 'ours'),
  );
}

const results = {
  date: started.toISOString(),
  machine: machine(),
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  peers,
  reps,
};
console.error(
  `bench on ${results.machine.model} (${results.machine.cores} cores), Node ${results.machine.node}; peers: ${peers.join(', ')}`,
);
if (only.has('relay')) {
  results.relay50 = await relayScenario('relay 50 pairs', scenarios.relay50);
  results.relay1 = await relayScenario('relay 1 pair', scenarios.relay1);
}
if (only.has('rtt')) results.rtt = await relayScenario('round trip (1 in flight)', scenarios.rtt);
if (only.has('idle')) results.idle = await idleScenario().catch((e) => ({ error: e.message }));
if (only.has('admission')) results.admission = await admissionScenario();
if (only.has('rooms') && peers.includes('ours')) results.rooms = await roomsScenario();
if (only.has('crypto')) {
  results.crypto = JSON.parse(
    execFileSync(
      'taskset',
      ['-c', LOADGEN_CPU, process.execPath, join(ROOT, 'bench/crypto.mjs'), quick ? '0.5' : '2'],
      { encoding: 'utf8' },
    ),
  );
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
const { renderReport } = await import('./report.mjs');
const report = renderReport(results);
console.log(report);
const resultsFile = join(ROOT, 'bench/RESULTS.md');
if (!existsSync(resultsFile))
  writeFileSync(
    resultsFile,
    '# Benchmark results\n\nAppended by `npm run bench`; newest last. See bench/README.md for what each figure means.\n',
  );
if (!quick) appendFileSync(resultsFile, `\n${report}\n`);
else console.error('(quick run: not appended to bench/RESULTS.md)');
void readFileSync;
