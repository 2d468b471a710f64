// The CPU floor of an end-to-end encrypted file transfer on this machine (issue 19): what
// the cheapest possible two-leg transfer (TLS up to the server, TLS down to the recipient,
// the file sealed and opened with AES-256-GCM, SHA-256 over it twice, the server's disk
// write and read) must spend, from measured parts:
//
// - one TLS leg = CPU-s of `openssl s_server` (reads the file from stdin, encrypts, sends)
//   plus `openssl s_client` (receives, decrypts, writes a file) moving the bytes one way:
//   each leg includes one read (a pipe the file is fed into) and one file write, which stand for the sender's read,
//   the server's store write and read, and the recipient's write;
// - AES-256-GCM seal and open, and SHA-256, of the same bytes through node:crypto in the
//   sizes the client uses (256 KiB chunks), CPU-s of this process.
//
// From these: the least CPU in all (2 legs + seal + open + 2 hashes), hence the best end to
// end MB/s on 2 cores (wall >= CPU sum / 2), and with >= 3 cores, where wall is bounded by
// the busiest process instead (sender = s_server + seal + hash, server = s_client + s_server,
// recipient = s_client + open + hash, each on one thread). Prints a Markdown section;
// `--record` appends it to bench/RESULTS.md.
//
//   node bench/files-floor.mjs [--mib 200] [--reps 3] [--record]
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { listening, makeInput, opensslServerArgs, until } from './lib/files-lib.mjs';
import { machine } from './lib/proc.mjs';
import { makeCertificate } from './servers.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, fallback) =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) || fallback : fallback;
const mib = opt('--mib', 200);
const reps = Math.min(9, opt('--reps', 3));
const record = argv.includes('--record');
const MiB = 1024 * 1024;
const CHUNK = 256 * 1024; // the client's chunk size in binary mode
const dir = mkdtempSync(join(tmpdir(), 'sc-bench-floor-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) killGroup(c);
  rmSync(dir, { recursive: true, force: true });
});

/** Kills a child started detached and whatever it started (/usr/bin/time and its openssl). */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** CPU-s (user + system) /usr/bin/time wrote for a process that ended. */
async function timed(file, proc) {
  if (proc.exitCode === null) await new Promise((resolve) => proc.on('exit', resolve));
  const [user, system] = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map(Number);
  return user + system;
}

/**
 * One pass of openssl s_server (stdin = the file; it closes the connection at the file's end)
 * to s_client (stdout = a file), each under /usr/bin/time: wall and CPU-s of each.
 */
async function tlsLeg(cert, input, bytes, tool) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const time = (name) => ['-f', '%U %S', '-o', join(dir, `${name}.time`)];
  const commands =
    tool === 'node'
      ? {
          server: [
            process.execPath,
            SELF,
            '--role',
            'server',
            String(port),
            cert.certPath,
            cert.keyPath,
          ],
          client: [process.execPath, SELF, '--role', 'client', String(port)],
        }
      : {
          server: ['openssl', ...opensslServerArgs(port, cert)],
          client: ['openssl', 's_client', '-quiet', '-connect', `127.0.0.1:${port}`],
        };
  const server = spawn('/usr/bin/time', [...time('server'), ...commands.server], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  children.push(server);
  await until(() => listening(port), 20_000, 'openssl s_server listening');
  const out = join(dir, 'tls.out');
  const outFd = openSync(out, 'w');
  const client = spawn('/usr/bin/time', [...time('client'), ...commands.client], {
    stdio: ['pipe', outFd, 'ignore'], // (stdin held open, as a terminal would be)
    detached: true,
  });
  children.push(client);
  // The file goes in once the client is there (as in bench/files.mjs: s_server given the
  // file itself as stdin now and then stalled after its first record); s_server ends the
  // connection at its end.
  await new Promise((r) => setTimeout(r, 200));
  const started = process.hrtime.bigint();
  createReadStream(input).pipe(server.stdin);
  const arrived = await until(() => statSync(out).size >= bytes, 60_000, 'raw TLS bytes').catch(
    (e) => {
      // (openssl now and then stalls after its first record, on a loaded machine: retried)
      console.error(`${e.message}: ${statSync(out).size} of ${bytes} bytes arrived`);
      return false;
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cleanUp = () => {
    closeSync(outFd);
    rmSync(out, { force: true });
  };
  if (!arrived) {
    killGroup(server);
    killGroup(client);
    cleanUp();
    return undefined;
  }
  const exited = Promise.all([
    timed(join(dir, 'server.time'), server),
    timed(join(dir, 'client.time'), client),
  ]);
  const bounded = setTimeout(() => {
    killGroup(server);
    killGroup(client);
  }, 20_000);
  const [serverCpu, clientCpu] = await exited;
  clearTimeout(bounded);
  cleanUp();
  return { seconds, server: serverCpu, client: clientCpu };
}

/** CPU-s of this process (user + system) running `work`. */
function cpuOf(work) {
  const a = process.cpuUsage();
  work();
  const b = process.cpuUsage(a);
  return (b.user + b.system) / 1e6;
}

function cryptoRates(bytes) {
  const plain = randomBytes(CHUNK);
  const key = randomBytes(32);
  const n = bytes / CHUNK;
  const sealed = [];
  const seal = cpuOf(() => {
    for (let i = 0; i < n; i++) {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(i, 8);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = c.update(plain);
      c.final();
      if (i < 4) sealed.push([iv, body, c.getAuthTag()]);
    }
  });
  const open = cpuOf(() => {
    for (let i = 0; i < n; i++) {
      const [iv, body, tag] = sealed[i % sealed.length];
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(tag);
      d.update(body);
      d.final();
    }
  });
  const hash = cpuOf(() => {
    const h = createHash('sha256');
    for (let i = 0; i < n; i++) h.update(plain);
    h.digest();
  });
  return { seal, open, hash };
}

/**
 * The same leg in plain Node (`--role server PORT CERT KEY` / `--role client PORT`): stdin
 * piped into a TLS socket, a TLS socket piped to stdout; what node:tls and streams cost
 * before any code of ours.
 */
function role(kind, port, certPath, keyPath) {
  if (kind === 'server') {
    const server = createServer(
      { cert: readFileSync(certPath), key: readFileSync(keyPath) },
      (socket) => {
        server.close();
        process.stdin.pipe(socket);
        socket.on('close', () => process.exit(0));
        socket.on('error', () => process.exit(1));
      },
    );
    server.listen(Number(port), '127.0.0.1');
    return;
  }
  const socket = connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false });
  socket.pipe(process.stdout);
  socket.on('end', () => process.exit(0));
  socket.on('error', () => process.exit(1));
}

async function main() {
  const bytes = mib * MiB;
  const mb = bytes / 1e6;
  const input = join(dir, 'input.bin');
  makeInput(input, bytes);
  const cert = await makeCertificate(dir);
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const legs = [];
  const rates = [];
  const nodeLegs = [];
  const legOf = async (tool) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const leg = await tlsLeg(cert, input, bytes, tool);
      if (leg) return leg;
    }
    throw new Error(`${tool} did not move the bytes in 3 attempts`);
  };
  for (let r = 0; r < reps; r++) {
    legs.push(await legOf('openssl'));
    nodeLegs.push(await legOf('node'));
    rates.push(cryptoRates(bytes));
  }
  const leg = {
    seconds: median(legs.map((l) => l.seconds)),
    server: median(legs.map((l) => l.server)),
    client: median(legs.map((l) => l.client)),
  };
  const nodeLeg = {
    seconds: median(nodeLegs.map((l) => l.seconds)),
    server: median(nodeLegs.map((l) => l.server)),
    client: median(nodeLegs.map((l) => l.client)),
  };
  const c = {
    seal: median(rates.map((x) => x.seal)),
    open: median(rates.map((x) => x.open)),
    hash: median(rates.map((x) => x.hash)),
  };
  /** The least CPU of a two-leg transfer over TLS legs costing `tls`, and per process. */
  const floorOf = (tls) => {
    const legCpu = tls.server + tls.client;
    const floor = 2 * legCpu + c.seal + c.open + 2 * c.hash;
    const procs = {
      sender: tls.server + c.seal + c.hash,
      server: tls.client + tls.server,
      recipient: tls.client + c.open + c.hash,
    };
    const busiest = Math.max(...Object.values(procs));
    return { legCpu, floor, procs, busiest, best2: mb / Math.max(floor / 2, busiest) };
  };
  const { legCpu, floor, procs, busiest, best2 } = floorOf(leg);
  const raw = mb / leg.seconds;
  const target = raw / 2;
  const targetWall = mb / target;
  const best3 = mb / busiest;
  const {
    legCpu: nodeLegCpu,
    floor: nodeFloor,
    procs: nodeProcs,
    best2: nodeBest2,
  } = floorOf(nodeLeg);
  const f = (x) => x.toFixed(2);
  // the server's defaults (docs/OPERATIONS.md): 64 MiB/s per connection after a 16 MiB burst
  const budgetSeconds = Math.max(0, bytes - 16 * MiB) / (64 * MiB);
  const text = [
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — file transfer CPU floor, ${mib} MiB (issue 19, bench/files-floor.mjs) — ${machine().model ?? machine().cpu ?? ''}, ${machine().cores ?? ''} cores, Node ${process.versions.node}, OpenSSL ${process.versions.openssl}`,
    `Command: \`node bench/files-floor.mjs --mib ${mib} --reps ${reps}\`; medians of ${reps}; load average ${load} at the start.`,
    '',
    `| part | CPU-s per ${mib} MiB | rate |`,
    '|---|---|---|',
    `| openssl s_server (read stdin, TLS encrypt, send) | ${f(leg.server)} | ${(mb / leg.server).toFixed(0)} MB/CPU-s |`,
    `| openssl s_client (receive, TLS decrypt, write file) | ${f(leg.client)} | ${(mb / leg.client).toFixed(0)} MB/CPU-s |`,
    `| one TLS leg (both; wall ${f(leg.seconds)} s = **${raw.toFixed(1)} MB/s raw TLS**) | ${f(legCpu)} | |`,
    `| plain Node: stdin piped into a TLS socket (node:tls server) | ${f(nodeLeg.server)} | ${(mb / nodeLeg.server).toFixed(0)} MB/CPU-s |`,
    `| plain Node: TLS socket piped to stdout, a file (node:tls client) | ${f(nodeLeg.client)} | ${(mb / nodeLeg.client).toFixed(0)} MB/CPU-s |`,
    `| one plain-Node TLS leg (both; wall ${f(nodeLeg.seconds)} s = ${(mb / nodeLeg.seconds).toFixed(1)} MB/s) | ${f(nodeLegCpu)} | |`,
    `| AES-256-GCM seal, 256 KiB chunks (node:crypto) | ${f(c.seal)} | ${(mb / c.seal).toFixed(0)} MB/CPU-s |`,
    `| AES-256-GCM open | ${f(c.open)} | ${(mb / c.open).toFixed(0)} MB/CPU-s |`,
    `| SHA-256 | ${f(c.hash)} | ${(mb / c.hash).toFixed(0)} MB/CPU-s |`,
    '',
    `Least CPU of a two-leg E2EE transfer = 2 TLS legs + seal + open + 2 hashes = 2 × ${f(legCpu)} + ${f(c.seal)} + ${f(c.open)} + 2 × ${f(c.hash)} = **${f(floor)} CPU-s** (disk write and read are inside the legs: each leg reads one file and writes one). Per process, each on one thread: sender ${f(procs.sender)}, server ${f(procs.server)}, recipient ${f(procs.recipient)} CPU-s.`,
    `- **2 cores:** wall ≥ max(${f(floor)} / 2, ${f(busiest)}) = ${f(Math.max(floor / 2, busiest))} s → at best **${best2.toFixed(0)} MB/s = ${((100 * best2) / raw).toFixed(0)} % of raw TLS** with zero overhead beyond the primitives. The target (≥ 50 % = ${target.toFixed(0)} MB/s, wall ≤ ${f(targetWall)} s) leaves ${f(2 * targetWall - floor)} CPU-s for everything else (Node, JavaScript, framing, GC) across the three processes.`,
    `- **The same with plain Node's TLS legs** (node:tls and streams, no code of ours): 2 × ${f(nodeLegCpu)} + ${f(c.seal + c.open + 2 * c.hash)} = **${f(nodeFloor)} CPU-s**; per process sender ${f(nodeProcs.sender)}, server ${f(nodeProcs.server)}, recipient ${f(nodeProcs.recipient)}; on 2 cores at best ${nodeBest2.toFixed(0)} MB/s = **${((100 * nodeBest2) / raw).toFixed(0)} % of raw TLS** before any framing, JSON, E2EE, disk bookkeeping or GC of ours.`,
    `- **The server's default file budget caps it first:** \`--file-bytes-per-second\` 64 MiB/s with a 16 MiB burst per connection lets a ${mib} MiB upload take no less than ${f(budgetSeconds)} s: at most ${(mb / budgetSeconds).toFixed(0)} MB/s = ${((100 * mb) / budgetSeconds / raw).toFixed(0)} % of raw TLS end to end, whatever the CPU (bench/files.mjs \`--file-budget 1g\` lifts it).`,
    `- **≥ 3 cores:** wall ≥ the busiest process = ${f(busiest)} s → at best ${best3.toFixed(0)} MB/s (${((100 * best3) / raw).toFixed(0)} %). The target needs each process's busiest thread ≤ ${f(targetWall)} s per ${mib} MiB (its main thread, with hashing and file I/O off it), i.e. ≤ ${f(targetWall - procs.server)} s of overhead beyond the primitives on the server.`,
    '',
  ].join('\n');
  console.log(text);
  if (record) appendFileSync(join(ROOT, 'bench/RESULTS.md'), `\n${text}`);
  process.exit(0);
}

if (argv.includes('--role')) {
  const at = argv.indexOf('--role');
  role(argv[at + 1], argv[at + 2], argv[at + 3], argv[at + 4]);
} else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
