// Load generator, run as its own process (pinned to its own core by bench/run.mjs).
// Every loop is bounded in count and time. Prints one JSON result line on stdout.
//
//   node bench/loadgen.mjs relay     --proto sc|irc --port P --ca F --server-pid N --pairs 50 --messages 2000 --window 32
//   node bench/loadgen.mjs idle      --proto sc|irc --port P --ca F --count 2000 --probes 50
//   node bench/loadgen.mjs admission --proto sc|sc2|irc --port P --ca F --server-pid N --count 400 --concurrency 8

import { loadCa, makeIdentities, registerIrc, registerSecurechat } from './lib/clients.mjs';
import { cpuSeconds } from './lib/proc.mjs';
import { percentile } from './lib/stats.mjs';

const [mode, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
const port = Number(args.port);
const ca = loadCa(args.ca);
const proto = args.proto ?? 'sc';
const timeoutMs = Number(args.timeout ?? 120) * 1000;
const deadline = Date.now() + timeoutMs;
const NONCE = Buffer.alloc(12, 1).toString('base64');

setTimeout(() => {
  console.log(JSON.stringify({ error: `timed out after ${timeoutMs} ms` }));
  process.exit(2);
}, timeoutMs + 5000).unref();

/** 128-byte payload: send time (ns), sequence, pair; the rest filler. Base64 on the wire. */
function payload(pair, seq) {
  const bytes = Buffer.alloc(128, 0x5a);
  const now = process.hrtime.bigint();
  bytes.writeBigUInt64BE(now, 0);
  bytes.writeUInt32BE(seq, 8);
  bytes.writeUInt32BE(pair, 12);
  return bytes.toString('base64');
}

function readPayload(b64) {
  const bytes = Buffer.from(b64.slice(0, 24), 'base64');
  return { sent: bytes.readBigUInt64BE(0), seq: bytes.readUInt32BE(8) };
}

async function register(name, onLine, options = {}) {
  if (proto === 'irc') return registerIrc({ port, ca, name, onLine });
  return registerSecurechat({
    port,
    ca,
    name,
    onLine,
    v2: proto === 'sc2' || options.v2,
    caps: options.caps ?? [],
    identity: options.identity,
  });
}

async function pool(count, concurrency, task) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count && Date.now() < deadline) await task(next++);
  });
  await Promise.all(workers);
}

async function relay() {
  const pairs = Number(args.pairs ?? 50);
  const perPair = Number(args.messages ?? 2000);
  const window = Number(args.window ?? 32);
  const serverPid = Number(args['server-pid']);
  const latencies = [];
  let delivered = 0;
  const warmup = Number(args.warmup ?? 0);
  const state = Array.from({ length: pairs }, () => ({
    sent: 0,
    received: 0,
    limit: perPair,
    sender: undefined,
  }));
  let measuring = true;
  let lastProgress = Date.now();
  const waitQuiet = async (complete) => {
    lastProgress = Date.now();
    while (!complete() && Date.now() - lastProgress < 2000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const pump = (i) => {
    const s = state[i];
    let batch = '';
    while (s.sent < s.limit && s.sent - s.received < window) {
      const body = payload(i, s.sent++);
      batch +=
        proto === 'irc'
          ? `PRIVMSG r${i} :${body}\r\n`
          : `{"type":"relay","to":"r${i}","alg":"X25519+AESGCM","nonce":"${NONCE}","cipher":"${body}"}\n`;
    }
    if (batch) s.sender.write(batch);
  };
  const onReceive = (i) => (line) => {
    let body;
    if (proto === 'irc') {
      const at = line.indexOf(' PRIVMSG ');
      if (at === -1) return;
      body = line.slice(line.indexOf(':', at) + 1);
    } else {
      const at = line.indexOf('"cipher":"');
      if (at === -1) return;
      body = line.slice(at + 10, line.indexOf('"', at + 10));
    }
    const { sent } = readPayload(body);
    if (measuring) latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
    delivered++;
    lastProgress = Date.now();
    const s = state[i];
    s.received++;
    // One write per received chunk, not per message: what a real client would do.
    if (!s.scheduled) {
      s.scheduled = true;
      process.nextTick(() => {
        s.scheduled = false;
        pump(i);
      });
    }
  };
  await pool(pairs, 10, async (i) => {
    await register(`r${i}`, onReceive(i));
    state[i].sender = await register(`s${i}`, () => {});
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (warmup > 0) {
    // Warm the JIT and the connections; these messages are not measured.
    measuring = false;
    for (const s of state) s.limit = warmup;
    for (let i = 0; i < pairs; i++) pump(i);
    await waitQuiet(() => delivered === pairs * warmup);
    for (const s of state) Object.assign(s, { sent: 0, received: 0, limit: perPair });
    delivered = 0;
    latencies.length = 0;
    measuring = true;
  }
  const cpu0 = serverPid ? cpuSeconds(serverPid) : 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < pairs; i++) pump(i);
  // Ends when everything arrived, or after 2 s without progress (stranded messages count as lost).
  await waitQuiet(() => delivered === pairs * perPair);
  const seconds =
    Number(process.hrtime.bigint() - t0) / 1e9 - (delivered === pairs * perPair ? 0 : 2);
  const cpu = serverPid ? cpuSeconds(serverPid) - cpu0 : Number.NaN;
  latencies.sort((a, b) => a - b);
  const total = pairs * perPair;
  return {
    pairs,
    window,
    sent: state.reduce((n, s) => n + s.sent, 0),
    delivered,
    lost: total - delivered,
    seconds,
    messagesPerSecond: delivered / seconds,
    payloadMBps: (delivered * 128) / seconds / 1e6,
    serverCpuSeconds: cpu,
    messagesPerServerCpuSecond: delivered / cpu,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
    },
  };
}

async function pingProbe(socket, count) {
  const rtts = [];
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => {
      socket.pendingPong = resolve;
      socket.write(proto === 'irc' ? `PING :probe${i}\r\n` : '{"type":"ping"}\n');
    });
    rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((r) => setTimeout(r, 20));
  }
  rtts.sort((a, b) => a - b);
  return { p50: percentile(rtts, 50), p99: percentile(rtts, 99), max: rtts.at(-1) };
}

async function idle() {
  const count = Number(args.count ?? 2000);
  const identities = proto === 'irc' ? [] : await makeIdentities(count + 1);
  const t0 = Date.now();
  const sockets = [];
  await pool(count, 50, async (i) => {
    sockets.push(
      await register(`idle${i}`, () => {}, { v2: true, caps: [], identity: identities[i] }),
    );
  });
  const probeSocket = await register(
    'probe',
    (line) => {
      if ((line.includes('"pong"') || / PONG /.test(line)) && probeSocket?.pendingPong) {
        const resolve = probeSocket.pendingPong;
        probeSocket.pendingPong = undefined;
        resolve();
      }
    },
    { v2: true, caps: ['ping'], identity: identities[count] },
  );
  console.log(JSON.stringify({ holding: sockets.length, seconds: (Date.now() - t0) / 1000 }));
  // The orchestrator measures memory now, then asks for the lag probe and ends us.
  for await (const line of process.stdin) {
    if (String(line).startsWith('PROBE'))
      console.log(
        JSON.stringify({ probe: await pingProbe(probeSocket, Number(args.probes ?? 50)) }),
      );
    else break;
  }
  for (const socket of sockets) socket.destroy();
  return undefined;
}

async function admission() {
  const count = Number(args.count ?? 400);
  const concurrency = Number(args.concurrency ?? 8);
  const serverPid = Number(args['server-pid']);
  const identities = proto === 'sc2' ? await makeIdentities(count) : [];
  const cpu0 = cpuSeconds(serverPid);
  const t0 = Date.now();
  let completed = 0;
  await pool(count, concurrency, async (i) => {
    const socket = await register(`adm${i}`, () => {}, { identity: identities[i] });
    completed++;
    socket.destroy();
  });
  await new Promise((r) => setTimeout(r, 200));
  const cpu = cpuSeconds(serverPid) - cpu0;
  return {
    connects: completed,
    seconds: (Date.now() - t0) / 1000,
    serverCpuMsPerConnect: (cpu * 1000) / completed,
  };
}

const run = { relay, idle, admission }[mode];
if (!run) {
  console.error('usage: loadgen.mjs relay|idle|admission --proto sc|sc2|irc --port P ...');
  process.exit(2);
}
const result = await run();
if (result) console.log(JSON.stringify(result));
process.exit(0);
