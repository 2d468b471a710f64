// Helpers of bench/files.mjs: waiting, transfer ends, peak RSS, the input file, raw TLS
// through openssl, and a CPU profile of the transfer window (perf record on the pids).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CLK_TCK } from './proc.mjs';

const MiB = 1024 * 1024;

/** Peak resident memory of a live process (VmHWM), in MiB. */
export function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function until(test, ms, what) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      const value = test();
      if (value) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/**
 * The end (done or failed) of a client's transfer, bounded twice: 5 minutes in all, and
 * STALL_MS without any transfer event (progress comes about once a second) fails at once
 * with the last event seen — a stalled transfer is reported, never waited on forever.
 */
const STALL_MS = 30_000;
export function transferEnd(client, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let seen = 0;
    let lastChange = Date.now();
    const tick = () => {
      const transfer = client.events.filter((e) => e.kind === 'transfer');
      const end = transfer.find((e) => e.phase === 'done' || e.phase === 'failed');
      if (end) return resolve(end);
      if (transfer.length !== seen) {
        seen = transfer.length;
        lastChange = Date.now();
      }
      const last = JSON.stringify(transfer.at(-1) ?? null);
      if (client.proc.exitCode !== null)
        return reject(
          new Error(`${what}: the client exited (${client.proc.exitCode}); last event ${last}`),
        );
      if (Date.now() - lastChange > STALL_MS)
        return reject(
          new Error(
            `${what} stalled: no transfer event for ${STALL_MS / 1000} s; last event ${last}`,
          ),
        );
      if (Date.now() - started > 300_000)
        return reject(new Error(`${what} did not finish within 5 minutes; last event ${last}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

export function lines(stream, sink) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    rest += chunk;
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      sink(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  });
}

export function makeInput(path, bytes) {
  const fd = openSync(path, 'w');
  const block = randomBytes(MiB);
  for (let i = 0; i < bytes / MiB; i++)
    writeSync(
      fd,
      block.map((b) => b ^ i),
    );
  closeSync(fd);
}

export async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** True when something listens on 127.0.0.1:`port` (from /proc/net/tcp: state 0A). */
export function listening(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    return readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .some((row) => {
        const f = row.trim().split(/\s+/);
        return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
      });
  } catch {
    return false;
  }
}

/** `openssl s_server` arguments: one connection on loopback `port`, quiet, with `cert`. */
export const opensslServerArgs = (port, cert) => [
  's_server',
  '-quiet',
  '-accept',
  `127.0.0.1:${port}`,
  '-cert',
  cert.certPath,
  '-key',
  cert.keyPath,
  '-naccept',
  '1',
];

/** `openssl s_server < file` to `openssl s_client > file`: seconds for the bytes to cross. */
export async function rawTls(cert, input, bytes, dir, children) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn('openssl', opensslServerArgs(port, cert), {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  children.push(server);
  // s_server accepts one connection: wait until it listens (not a fixed sleep, which a loaded
  // machine can outlast), without connecting to it.
  await until(() => listening(port), 20_000, `openssl s_server listening on ${port}`);
  const out = join(dir, 'tls.out');
  const client = spawn(
    'sh',
    ['-c', `openssl s_client -quiet -connect 127.0.0.1:${port} > ${out} 2>/dev/null`],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  children.push(client);
  await new Promise((r) => setTimeout(r, 200));
  // s_server sends what it reads on stdin to the client once connected
  const started = process.hrtime.bigint();
  const feed = createReadStream(input);
  feed.pipe(server.stdin);
  await until(
    () => existsSync(out) && statSync(out).size >= bytes,
    120_000,
    'raw TLS bytes (openssl s_server → s_client)',
  ).catch((error) => {
    const got = existsSync(out) ? statSync(out).size : 0;
    throw new Error(
      `${error.message}: ${got} of ${bytes} bytes arrived (s_server exit ${server.exitCode}, s_client exit ${client.exitCode})`,
    );
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  server.kill('SIGKILL');
  client.kill('SIGKILL');
  return seconds;
}

/**
 * CPU seconds of a process split into its main (JavaScript) thread and all its other
 * threads (V8's GC helpers, the libuv pool doing file reads and writes), from
 * /proc/PID/task: utime + stime of each thread.
 */
export function threadCpu(pid) {
  let main = 0;
  let other = 0;
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { main: Number.NaN, other: Number.NaN };
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / CLK_TCK;
      if (tid === String(pid)) main += s;
      else other += s;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { main, other };
}

/**
 * `--perf FILE`: `perf record -e cpu-clock -g` on the given pids for the transfer only (the
 * clients' and the server's start-up left out); CPU time, unlike V8's wall-clock profiles on
 * a loaded machine. Start the node processes with --perf-basic-prof for JIT symbols.
 * Returns a stop function (resolves once perf wrote its file).
 */
export function perfWindow(file, pids) {
  const perf = spawn(
    'perf',
    ['record', '-q', '-e', 'cpu-clock', '-F', '1999', '-g', '-o', file, '-p', pids.join(',')],
    { stdio: 'ignore' },
  );
  return () =>
    new Promise((resolve) => {
      perf.on('exit', resolve);
      perf.kill('SIGINT');
      setTimeout(() => perf.kill('SIGKILL'), 10_000).unref();
    });
}
