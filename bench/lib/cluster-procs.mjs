// Processes of the cluster bench (bench/cluster.mjs): the daemons and redis-server it starts
// (killed when the bench exits), and what it reads of them (/proc, INFO commandstats).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../servers.mjs';

const CLI = new URL('../../bin/securechat', import.meta.url).pathname;
const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

export function start(command, argv, ready) {
  // BENCH_PROF=1: V8 profiles (wall time) in /tmp/prof; BENCH_PROF=perf: JIT symbols for
  // `perf record -e cpu-clock` (CPU time only, which V8 profiles cannot show on a loaded machine).
  const prof =
    process.env.BENCH_PROF && command === process.execPath
      ? process.env.BENCH_PROF === 'perf'
        ? ['--perf-basic-prof']
        : ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']
      : [];
  // BENCH_NODE_ARGS: more flags for the daemons (e.g. --trace-deopt; their output is read).
  const extra =
    process.env.BENCH_NODE_ARGS && command === process.execPath
      ? process.env.BENCH_NODE_ARGS.split(' ')
      : [];
  const child = spawn(command, [...prof, ...extra, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (process.env.BENCH_TRACE_DIR)
    child.stdout.on('data', (chunk) =>
      appendFileSync(join(process.env.BENCH_TRACE_DIR, `${child.pid}.log`), chunk),
    );
  children.add(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} did not start:\n${output}`)),
      30_000,
    );
    const look = (chunk) => {
      output += chunk;
      const found = ready(output);
      if (found !== undefined) {
        clearTimeout(timer);
        resolve({ child, found });
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) =>
      reject(new Error(`${command} exited ${code}:\n${output.slice(-2000)}`)),
    );
  });
}

export async function stop(child) {
  if (child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  children.delete(child);
}

export async function redisServer(dir) {
  const port = await freePort();
  const { child } = await start(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    (out) => (out.includes('Ready to accept connections') ? true : undefined),
  );
  return { child, url: `redis://127.0.0.1:${port}` };
}

export async function daemon(cert, redisUrl, more = []) {
  const extra = [...(redisUrl ? ['--redis', redisUrl] : []), ...more];
  const { child, found } = await start(
    process.execPath,
    [
      CLI,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert',
      cert.certPath,
      '--key',
      cert.keyPath,
      '--data',
      ':memory:',
      '--log-level',
      'warn',
      '--no-rate-limit',
      ...extra,
    ],
    (out) => /securechat listening on [^:]+:(\d+)/.exec(out)?.[1],
  );
  return { child, port: Number(found) };
}

/** Child processes of `pid` (the workers of a `--workers` primary). */
export function childPids(pid) {
  const run = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return run.stdout
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((n) => n > 0);
}

/** Read and write system calls (/proc/<pid>/io) and voluntary context switches of `pid`. */
export function syscalls(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const num = (text, key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
    return [num(io, 'syscr'), num(io, 'syscw'), num(status, 'voluntary_ctxt_switches')];
  } catch {
    return [0, 0, 0];
  }
}

/** Runs `redis-cli` against the bench's Redis; undefined when it is not installed. */
export function redisCli(url, argv) {
  const run = spawnSync('redis-cli', ['-p', url.split(':').at(-1), ...argv], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout : undefined;
}

/** Calls per command since the last CONFIG RESETSTAT (INFO commandstats). */
export function commandCalls(url) {
  const calls = {};
  for (const line of (redisCli(url, ['INFO', 'commandstats']) ?? '').split('\n')) {
    const match = /^cmdstat_(\w+):calls=(\d+)/.exec(line);
    if (match) calls[match[1]] = Number(match[2]);
  }
  return calls;
}
