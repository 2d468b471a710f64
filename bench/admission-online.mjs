// Admission while v1 clients are online: `--online N` v1 clients are registered and held
// (loadgen.mjs idle --hello v1: they read what they are pushed), then the v1 connect storm
// of `run.mjs --only admission` runs (8 at a time, after a warm-up). Every join and leave
// changes the `users` map each held client is pushed, so this is where v1 presence costs.
// Prints server CPU ms per connect and connects/s. `--hello v2 --caps presence`: the held
// clients are v2 with the `presence` capability (as our own client asks) and get a delta
// per join and leave instead. `--root DIR`: another built checkout's server and load
// generator (a before/after).
//
//   npm run build && node bench/admission-online.mjs [--online 1000] [--count 1000] [--warmup 300]
//                                                    [--hello v1|v2] [--caps LIST] [--root DIR]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionTaker } from './lib/args.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
const online = Number(take('online', 1000));
const count = Number(take('count', 1000));
const warmup = Number(take('warmup', 300));
const root = take('root', new URL('..', import.meta.url).pathname);
const hello = take('hello', 'v1');
const caps = take('caps');
if (
  args.length > 0 ||
  !(online >= 0) ||
  !(count > 0) ||
  !(warmup >= 0) ||
  !['v1', 'v2'].includes(hello)
) {
  console.error(
    'usage: node bench/admission-online.mjs [--online 1000] [--count 1000] [--warmup 300] [--hello v1|v2] [--caps LIST] [--root DIR]',
  );
  process.exit(2);
}
const { TARGETS, makeCertificate, killAll } = await import(join(root, 'bench/servers.mjs'));
const dir = mkdtempSync(join(tmpdir(), 'securechat-admission-online-'));
process.on('exit', () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
const cert = await makeCertificate(dir);
const target = await TARGETS.ours(cert);
const loadgen = (mode, extra) =>
  ['-c', process.env.BENCH_LOADGEN_CPU ?? '1', process.execPath, join(root, 'bench/loadgen.mjs')]
    .concat([mode, '--proto', 'sc', '--port', String(target.port), '--ca', cert.certPath])
    .concat(['--server-pid', String(target.pid), '--timeout', '600', ...extra]);

const holder = spawn(
  'taskset',
  loadgen('idle', [
    ...['--hello', hello, '--count', String(online), '--probes', '1'],
    ...(caps ? ['--caps', caps] : []),
  ]),
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const held = await new Promise((resolve, reject) => {
  let out = '';
  const timer = setTimeout(() => reject(new Error('the held clients did not register')), 600_000);
  holder.stdout.on('data', (chunk) => {
    out += chunk;
    const line = out.split('\n').find((l) => l.includes('"holding"'));
    if (line) {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    }
  });
  holder.once('exit', () => reject(new Error('the idle load generator exited')));
});
await new Promise((resolve) => setTimeout(resolve, 500));
const run = spawnSync(
  'taskset',
  loadgen('admission', [
    '--count',
    String(count),
    '--concurrency',
    '8',
    '--warmup',
    String(warmup),
  ]),
  { encoding: 'utf8', timeout: 630_000 },
);
const result = JSON.parse(run.stdout.trim().split('\n').pop() || '{}');
holder.stdin.end();
holder.kill();
await target.stop();
if (result.error) throw new Error(result.error);
console.log(
  JSON.stringify({
    online: held.holding,
    hello: held.hello,
    caps: caps ?? '',
    connects: result.connects,
    failures: result.failures,
    serverCpuMsPerConnect: result.serverCpuMsPerConnect,
    connectsPerSecond: Math.round(result.connectsPerSecond),
    connectP50Ms: Math.round(result.connectP50Ms * 10) / 10,
  }),
);
