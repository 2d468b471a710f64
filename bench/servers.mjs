// Starts and stops the servers under test, each pinned to CPU 0 with room for many fds.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    const open = await new Promise((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

function launch(command, args) {
  // taskset pins the CPU (it execs, so the pid is the server's). The idle run needs about
  // 10,000 descriptors per side: bench/run.mjs checks `ulimit -n` before it starts.
  const proc = spawn('taskset', ['-c', SERVER_CPU, command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.output = () => output;
  return proc;
}

/** The pid of the server process itself (below prlimit and taskset, which exec). */
function serverPid(proc) {
  return proc.pid;
}

async function stopProcess(proc) {
  if (proc.exitCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await new Promise((resolve) => proc.once('exit', resolve));
  clearTimeout(timer);
}

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian packages for missing commands ({ command: package }); returns what is still missing. */
export function ensurePackages(commands) {
  const missing = Object.entries(commands)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
  if (missing.length > 0) {
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    const install = `${sudo}apt-get install -y -qq ${missing.join(' ')}`;
    try {
      execFileSync('sh', ['-c', `${install} || (${sudo}apt-get update -qq && ${install})`], {
        stdio: 'ignore',
      });
    } catch {
      // reported by the caller
    }
  }
  return Object.entries(commands)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
}

function render(template, values) {
  return readFileSync(new URL(`peers/${template}`, import.meta.url), 'utf8').replace(
    /\{\{(\w+)\}\}/g,
    (_, key) => values[key],
  );
}

/** Every server speaks TLS on `port`; `proto` tells the load generator what to speak. */
export const TARGETS = {
  async ours(cert) {
    const port = await freePort();
    const proc = launch(process.execPath, [
      join(ROOT, 'bin/securechat'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--cert',
      cert.certPath,
      '--key',
      cert.keyPath,
      '--data',
      ':memory:',
      '--no-rate-limit',
      '--max-per-ip',
      '1000000',
      '--max-connections',
      '1000000',
      '--max-send-queue',
      '16m',
      '--no-lobby',
      '--idle-timeout',
      '0',
      '--hello-timeout',
      '120s',
      '--handshake-timeout',
      '120s',
      '--log-level',
      'warn',
    ]);
    await waitForPort(port, proc);
    return {
      name: 'securechat',
      proto: 'sc',
      port,
      pid: serverPid(proc),
      stop: () => stopProcess(proc),
      proc,
    };
  },
  async bare(cert) {
    const port = await freePort();
    const proc = launch(process.execPath, [
      join(ROOT, 'bench/bare-forwarder.mjs'),
      String(port),
      cert.certPath,
      cert.keyPath,
    ]);
    await waitForPort(port, proc);
    return {
      name: 'bare node forwarder',
      proto: 'sc',
      port,
      pid: serverPid(proc),
      stop: () => stopProcess(proc),
      proc,
      v1Only: true,
    };
  },
  async ngircd(cert) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-ngircd-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'ngircd.conf'),
      render('ngircd.conf.tmpl', {
        DIR: dir,
        CERT: cert.certPath,
        KEY: cert.keyPath,
        TLS_PORT: port,
        PLAIN_PORT: await freePort(),
      }),
    );
    const proc = launch('ngircd', ['-n', '-f', join(dir, 'ngircd.conf')]);
    await waitForPort(port, proc);
    return {
      name: 'ngircd',
      proto: 'irc',
      port,
      pid: serverPid(proc),
      stop: () => stopProcess(proc),
      proc,
    };
  },
  async inspircd(cert) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-inspircd-'));
    const port = await freePort();
    writeFileSync(join(dir, 'motd.txt'), 'bench\n');
    writeFileSync(
      join(dir, 'inspircd.conf'),
      render('inspircd.conf.tmpl', {
        DIR: dir,
        CERT: cert.certPath,
        KEY: cert.keyPath,
        TLS_PORT: port,
      }),
    );
    const proc = launch('inspircd', [
      '--nofork',
      '--runasroot',
      `--config=${join(dir, 'inspircd.conf')}`,
    ]);
    await waitForPort(port, proc);
    return {
      name: 'inspircd',
      proto: 'irc',
      port,
      pid: serverPid(proc),
      stop: () => stopProcess(proc),
      proc,
    };
  },
};
