// Starts and stops the servers under test, each pinned to CPU 0 (taskset) and given room for
// many descriptors (prlimit, when needed), all on 127.0.0.1 with the same throwaway cert.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandName } from './lib/proc.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
export const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '0';
const HOST = '127.0.0.1'; // the only network target, ever

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, proc, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null)
      throw new Error(`server exited with ${proc.exitCode}: ${proc.output().slice(-400)}`);
    const open = await new Promise((resolve) => {
      const socket = netConnect({ host: HOST, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
}

const running = new Set();
/** Kills whatever is still running (called on exit and on Ctrl-C by bench/run.mjs). */
export function killAll() {
  for (const proc of running) if (proc.exitCode === null) proc.kill('SIGKILL');
}

function launch(command, args, { prefix = [], cwd } = {}) {
  // prlimit and taskset both exec, so the child's pid is the server's own.
  const argv = [...prefix, 'taskset', '-c', SERVER_CPU, command, ...args];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let output = '';
  const keep = (d) => {
    output = (output + d).slice(-8192);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  proc.output = () => output;
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  return proc;
}

async function started(name, proc, port, extra = {}) {
  await waitForPort(port, proc);
  const comm = commandName(proc.pid);
  if (comm === 'taskset' || comm === 'prlimit')
    throw new Error(`${name}: pid ${proc.pid} is still ${comm}, not the server`);
  return {
    name,
    port,
    pid: proc.pid,
    proc,
    stop: async () => {
      await stopProcess(proc, extra.stopSignal);
      if (extra.dir) rmSync(extra.dir, { recursive: true, force: true });
    },
    ...extra,
  };
}

async function stopProcess(proc, signal = 'SIGTERM') {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the Debian packages of missing commands ({ command: package }) with apt-get
 * (sudo when not root); returns the packages still missing afterwards.
 */
export function ensurePackages(commands) {
  const missing = [
    ...new Set(
      Object.entries(commands)
        .filter(([command]) => !has(command))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length > 0) {
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    const install = `DEBIAN_FRONTEND=noninteractive ${sudo}apt-get install -y -qq ${missing.join(' ')}`;
    console.error(`installing ${missing.join(', ')} (${sudo}apt-get install -y)`);
    try {
      execFileSync('sh', ['-c', `${install} || (${sudo}apt-get update -qq && ${install})`], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    } catch {
      // reported by the caller
    }
  }
  return Object.entries(commands)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
}

/**
 * Writes one ECDSA P-256 certificate and key for every server into `dir`: with the project's
 * generator (dist/server/certs.js) when built, otherwise with the openssl CLI.
 */
export async function makeCertificate(dir) {
  const cert = { certPath: join(dir, 'bench.crt'), keyPath: join(dir, 'bench.key') };
  const generator = join(ROOT, 'dist/server/certs.js');
  if (existsSync(generator)) {
    const { generateSelfSignedCertificate } = await import(generator);
    const generated = await generateSelfSignedCertificate('bench');
    writeFileSync(cert.certPath, generated.certPem);
    writeFileSync(cert.keyPath, generated.keyPem, { mode: 0o600 });
    cert.source = 'dist/server/certs.js';
  } else {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-sha256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=bench',
        '-keyout',
        cert.keyPath,
        '-out',
        cert.certPath,
      ],
      { stdio: 'ignore' },
    );
    cert.source = 'openssl';
  }
  return cert;
}

/** True once `npm run build` has produced our server. */
export function oursAvailable() {
  return existsSync(join(ROOT, 'dist/cli.js'));
}

function render(template, values) {
  return readFileSync(new URL(`peers/${template}`, import.meta.url), 'utf8').replace(
    /\{\{(\w+)\}\}/g,
    (_, key) => {
      if (!(key in values)) throw new Error(`${template}: no value for {{${key}}}`);
      return String(values[key]);
    },
  );
}

/** A target that runs `script PORT CERT KEY` with Node (the bare forwarder, the floor). */
function nodeScript(name, script, kind) {
  return async (cert, options = {}) => {
    const port = await freePort();
    const args = [...(options.nodeArgs ?? []), join(ROOT, script), String(port)];
    const proc = launch(process.execPath, [...args, cert.certPath, cert.keyPath], options);
    return started(name, proc, port, { proto: 'sc', kind });
  };
}

/**
 * Every server speaks TLS on 127.0.0.1:`port`; `proto` tells the load generator what to
 * speak (`sc` = securechat line protocol, `irc`). `options.prefix` is a command prefix
 * (prlimit) for the idle scale.
 */
export const TARGETS = {
  async ours(cert, options = {}) {
    const port = await freePort();
    // Flood control and per-address caps lifted, as for the IRC daemons; the relay path,
    // validation and slow-reader protection stay as shipped.
    const proc = launch(
      process.execPath,
      [
        ...(options.nodeArgs ?? []), // e.g. --cpu-prof (bench/profile.mjs)
        options.entry ?? join(ROOT, 'bin/securechat'), // (a patched copy: admission-phases.mjs)
        'serve',
        '--host',
        HOST,
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
        // Quotas against hostile users, lifted: the benches register thousands of names
        // from one address and store thousands of messages for one user.
        '--new-names-per-hour',
        '1000000',
        '--new-names-per-address',
        '1000000',
        '--v1-idle-timeout',
        '0',
        '--mailbox-size',
        '1000000',
        '--mailbox-per-sender',
        '1000000',
        '--mailbox-recipient-bytes',
        '1024m',
        '--mailbox-sender-bytes',
        '1024m',
        '--mailbox-address-bytes',
        '1024m',
        '--mailbox-total-bytes',
        '4096m',
        ...(options.extraArgs ?? []),
      ],
      options,
    );
    return started('securechat', proc, port, { proto: 'sc', kind: 'ours' });
  },
  bare: nodeScript('bare Node forwarder', 'bench/bare-forwarder.mjs', 'bare'),
  /** Our TLS listener with the bare forwarder's work on top (bench/admission-floor.mjs). */
  floor: nodeScript('listener floor', 'bench/admission-floor.mjs', 'floor'),
  async ngircd(cert, options = {}) {
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
    mkdirSync(join(dir, 'conf.d'));
    const proc = launch('ngircd', ['--nodaemon', '--config', join(dir, 'ngircd.conf')], {
      ...options,
      cwd: dir,
    });
    return started('ngircd', proc, port, { proto: 'irc', kind: 'ngircd', dir });
  },
  async inspircd(cert, options = {}) {
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
    // InspIRCd 3.15 segfaults on SIGTERM here (and raises its own core limit): stop it with
    // SIGKILL, from a temp cwd, so no core file lands in the checkout.
    const proc = launch(
      'inspircd',
      ['--nofork', '--runasroot', `--config=${join(dir, 'inspircd.conf')}`],
      { ...options, cwd: dir },
    );
    return started('InspIRCd', proc, port, {
      proto: 'irc',
      kind: 'inspircd',
      dir,
      stopSignal: 'SIGKILL',
    });
  },
};
