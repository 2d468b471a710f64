// Where our server's time goes under relay load (issue 16: "record the profile before and
// after"). Starts securechat as the bench does (bench/servers.mjs, CPU 0) with --cpu-prof,
// runs one relay load (default: the pipelined scenario, bench/pipelined.mjs) from CPU 1,
// stops the server and prints the top functions by self time. Linux only, loopback only.
//
// `--admission` profiles a connect storm instead (loadgen.mjs admission: v1 connects, TLS +
// hello + welcome + close, 8 at a time; `--connects N`, default 3,000).
//
//   npm run build && node bench/profile.mjs [--per-write | --admission] [--bare] [--messages N] [--top 25]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelinedCounts } from './pipelined.mjs';
import { makeCertificate, TARGETS } from './servers.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const valued = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(argv[at + 1]);
};
const perWrite = flag('per-write');
const admission = flag('admission');
// `--bare`: profile the bare Node forwarder under the same load (what Node itself costs).
const peer = flag('bare') ? 'bare' : 'ours';
const scenario = perWrite
  ? { pairs: 50, messages: 2000, window: 32, warmup: 300, turns: false }
  : pipelinedCounts(false);
scenario.messages = valued('messages', scenario.messages);
const top = valued('top', 25);

const dir = mkdtempSync(join(tmpdir(), 'securechat-profile-'));
try {
  const cert = await makeCertificate(dir);
  const profDir = join(dir, 'prof');
  const target = await TARGETS[peer](cert, {
    nodeArgs: ['--cpu-prof', '--cpu-prof-interval', '200', `--cpu-prof-dir=${profDir}`],
  });
  const common = ['--proto', 'sc', '--port', String(target.port), '--ca', cert.certPath];
  const load = admission
    ? ['admission', ...common, '--server-pid', String(target.pid)]
        .concat(['--count', String(valued('connects', 3000)), '--concurrency', '8'])
        .concat(['--timeout', '300'])
    : [
        'relay',
        ...common,
        ...['--server-pid', String(target.pid), '--pairs', String(scenario.pairs)],
        ...['--messages', String(scenario.messages), '--window', String(scenario.window)],
        ...['--warmup', String(scenario.warmup), '--timeout', '300'],
        ...(scenario.turns ? ['--turns', '1'] : []),
      ];
  const loadgen = spawnSync(
    'taskset',
    [
      '-c',
      process.env.BENCH_LOADGEN_CPU ?? '1',
      process.execPath,
      new URL('loadgen.mjs', import.meta.url).pathname,
      ...load,
    ],
    { encoding: 'utf8', timeout: 320_000 },
  );
  await target.stop(); // SIGTERM: the server exits and writes its profile
  const result = JSON.parse(loadgen.stdout.trim().split('\n').pop());
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the server wrote no profile (did it exit on SIGTERM?)');
  const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  // `--save FILE`: keep the .cpuprofile (open it in Chrome DevTools for the call tree).
  const saveAt = argv.indexOf('--save');
  if (saveAt !== -1) copyFileSync(join(profDir, file), argv[saveAt + 1]);
  // Self time per function: samples × interval, summed over nodes of the same function.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const self = new Map();
  for (const [id, count] of hits) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/')}${url ? `:${lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + count);
  }
  const total = profile.samples.length;
  console.log(
    admission
      ? `admission (v1): ${result.connects} connects, ${result.failures} failed, ${result.serverCpuMsPerConnect.toFixed(3)} ms server CPU per connect; ${total} samples`
      : `${perWrite ? 'per-write 50 pairs' : 'pipelined'}: ${result.delivered} delivered, ${Math.round(result.messagesPerServerCpuSecond)} msgs per server CPU-s; ${total} samples`,
  );
  for (const [key, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * count) / total).toFixed(1).padStart(5)} %  ${key}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
