// Load generator, run as its own process (pinned to its own core by bench/run.mjs). Every
// loop is bounded in count and time; a watchdog ends the process after --timeout seconds.
// Prints one JSON result line on stdout (idle mode: several, driven by stdin).
//
//   node bench/loadgen.mjs relay     --proto sc|irc --port P --ca F --server-pid N
//                                    --pairs 50 --messages 2000 --window 32 --warmup 300 --grace 2000
//                                    [--turns 1]  (pipelined: a whole window per write, bench/pipelined.mjs)
//   node bench/loadgen.mjs idle      --proto sc|irc --kind ours|bare|irc --port P --ca F
//                                    --count 2000 --probes 50 [--hello v2|v1]
//   node bench/loadgen.mjs admission --proto sc|sc2|irc --port P --ca F --server-pid N
//                                    --count 500 --concurrency 8
import {
  loadCa,
  makeIdentities,
  registerIrc,
  registerSecurechat,
  tlsDescription,
} from './lib/clients.mjs';
import { cpuSeconds, machineCpuSeconds } from './lib/proc.mjs';
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
const PAYLOAD_BYTES = 128;

setTimeout(() => {
  console.log(JSON.stringify({ error: `load generator timed out after ${timeoutMs / 1000} s` }));
  process.exit(2);
}, timeoutMs).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsedMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * The 128-byte payload (what E2EE would have sealed; the servers never look inside):
 * send time (hrtime ns), sequence, pair, phase; the rest filler. Base64 on the wire (172 chars).
 */
function payload(pair, seq, phase) {
  const bytes = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
  bytes.writeBigUInt64BE(process.hrtime.bigint(), 0);
  bytes.writeUInt32BE(seq, 8);
  bytes.writeUInt32BE(pair, 12);
  bytes[16] = phase;
  return bytes.toString('base64');
}

function readPayload(b64) {
  const bytes = Buffer.from(b64.slice(0, 24), 'base64'); // the first 18 bytes
  return { sent: bytes.readBigUInt64BE(0), seq: bytes.readUInt32BE(8), phase: bytes[16] };
}

/** An error frame (securechat) or an error reply/numeric (IRC) from the server. */
function isServerError(line) {
  return proto === 'irc' ? /^ERROR |^:\S+ 4\d\d /.test(line) : line.startsWith('{"type":"error"');
}

function relayLine(to, body) {
  return proto === 'irc'
    ? `PRIVMSG ${to} :${body}\r\n`
    : `{"type":"relay","to":"${to}","alg":"X25519+AESGCM","nonce":"${NONCE}","cipher":"${body}"}\n`;
}

/** The payload of a delivered message, or undefined for any other line. */
function deliveredBody(line) {
  if (proto === 'irc') {
    const at = line.indexOf(' PRIVMSG ');
    return at === -1 ? undefined : line.slice(line.indexOf(':', at + 9) + 1);
  }
  const at = line.indexOf('"cipher":"');
  return at === -1 ? undefined : line.slice(at + 10, line.indexOf('"', at + 10));
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

/** Runs task(0..count-1) with at most `concurrency` at once, until the deadline. */
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
  const warmup = Number(args.warmup ?? 0);
  const graceMs = Number(args.grace ?? 2000);
  const turns = args.turns === '1';
  const serverPid = Number(args['server-pid']);
  const WARMUP = 1;
  const MEASURED = 2;
  const state = Array.from({ length: pairs }, () => ({
    sent: 0,
    received: 0,
    limit: 0,
    sender: undefined,
    receiver: undefined,
    scheduled: false,
  }));
  let phase = 0;
  let sending = false;
  let recovering = false; // after the grace period: arrivals count as stranded, not delivered
  let received = 0; // in the current phase
  let delivered = 0;
  let stranded = 0;
  let staleWarmup = 0;
  const latencies = new Float64Array(pairs * perPair);
  const strandedLatencies = [];
  let lastProgress = Date.now();
  let lastDelivery = 0n;
  let serverErrors = 0;
  let firstServerError;
  const onServerLine = (line) => {
    if (!isServerError(line)) return false;
    serverErrors++;
    firstServerError ??= line.slice(0, 200);
    return true;
  };

  const pump = (i) => {
    const s = state[i];
    if (turns && s.sent !== s.received) return; // pipelined: the next turn once all arrived
    let batch = '';
    while (sending && s.sent < s.limit && s.sent - s.received < window) {
      batch += relayLine(`r${i}`, payload(i, s.sent++, phase));
    }
    if (batch) s.sender.write(batch);
  };
  const onReceive = (i) => (line) => {
    const body = deliveredBody(line);
    if (body === undefined) {
      onServerLine(line);
      return;
    }
    const message = readPayload(body);
    if (message.phase !== phase) {
      staleWarmup++; // a warm-up message that arrived after the measured part began
      return;
    }
    const now = process.hrtime.bigint();
    const latencyMs = Number(now - message.sent) / 1e6;
    const s = state[i];
    s.received++;
    received++;
    lastProgress = Date.now();
    if (phase === MEASURED) {
      if (recovering) {
        stranded++;
        strandedLatencies.push(latencyMs);
      } else {
        latencies[delivered++] = latencyMs;
        lastDelivery = now;
      }
    }
    // One write per received chunk, not per message: what a real client would do.
    if (sending && !s.scheduled) {
      s.scheduled = true;
      process.nextTick(() => {
        s.scheduled = false;
        pump(i);
      });
    }
  };
  /** Waits until `complete()` or `graceMs` without any arrival (or the deadline). */
  const waitQuiet = async (complete) => {
    lastProgress = Date.now();
    while (!complete() && Date.now() - lastProgress < graceMs && Date.now() < deadline) {
      await sleep(5);
    }
    return complete();
  };
  const totalSent = () => state.reduce((n, s) => n + s.sent, 0);
  /** Extra input on every connection (ngircd leaves pipelined lines unread until some arrives). */
  const nudge = () => {
    const line = proto === 'irc' ? 'PING :nudge\r\n' : '{"type":"list"}\n';
    for (const s of state) {
      s.sender.write(line);
      s.receiver.write(line);
    }
  };
  const startPhase = (which, limit) => {
    phase = which;
    received = 0;
    recovering = false;
    for (const s of state) Object.assign(s, { sent: 0, received: 0, limit });
    sending = true;
    for (let i = 0; i < pairs; i++) pump(i);
  };

  await pool(pairs, 10, async (i) => {
    state[i].receiver = await register(`r${i}`, onReceive(i));
    state[i].sender = await register(`s${i}`, onServerLine);
  });
  if (state.some((s) => !s.sender)) throw new Error('could not register every pair in time');
  await sleep(300); // presence pushes of the joins (v1) settle before anything is measured

  if (warmup > 0) {
    // Warms the JIT, the TLS sessions and the buffers; not measured.
    startPhase(WARMUP, warmup);
    if (!(await waitQuiet(() => received === pairs * warmup))) {
      sending = false;
      nudge();
      await waitQuiet(() => received === totalSent());
    }
    sending = false;
    await sleep(100);
  }

  const cpu0 = serverPid ? cpuSeconds(serverPid) : Number.NaN;
  const ownCpu0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const t0 = process.hrtime.bigint();
  startPhase(MEASURED, perPair);
  const complete = await waitQuiet(() => received === pairs * perPair);
  // Read at once when complete; otherwise after the idle grace period (a few ticks at most).
  const cpu = serverPid ? cpuSeconds(serverPid) - cpu0 : Number.NaN;
  const ownCpu = process.cpuUsage(ownCpu0);
  const machine1 = machineCpuSeconds();
  const seconds = lastDelivery ? Number(lastDelivery - t0) / 1e9 : Number.NaN;
  sending = false;
  const sent = totalSent();
  if (!complete) {
    recovering = true;
    nudge();
    await waitQuiet(() => received === sent);
  }
  const sorted = latencies.subarray(0, delivered).sort();
  strandedLatencies.sort((a, b) => a - b);
  return {
    pairs,
    window,
    tls: tlsDescription(state[0].sender),
    sent,
    delivered,
    stranded,
    lost: sent - delivered - stranded,
    unsent: pairs * perPair - sent,
    staleWarmup,
    serverErrors,
    firstServerError,
    seconds,
    messagesPerSecond: delivered / seconds,
    payloadMBps: (delivered * PAYLOAD_BYTES) / seconds / 1e6,
    serverCpuSeconds: cpu,
    serverCpuShare: cpu / seconds,
    loadgenCpuShare: (ownCpu.user + ownCpu.system) / 1e6 / seconds,
    // CPU used meanwhile by other processes (should stay near zero), by interrupts (loopback
    // TCP is mostly softirq work, charged to no process) and stolen by the hypervisor.
    otherCpuSeconds:
      machine1.processes - machine0.processes - cpu - (ownCpu.user + ownCpu.system) / 1e6,
    interruptCpuSeconds: machine1.interrupts - machine0.interrupts,
    stolenCpuSeconds: machine1.steal - machine0.steal,
    messagesPerServerCpuSecond: delivered / cpu,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.at(-1),
    },
    strandedLatencyMaxMs: strandedLatencies.at(-1),
  };
}

/** `count` round trips on one connection, 20 ms apart, each bounded by 5 s. */
async function roundTrips(probe, count) {
  const rtts = [];
  let timeouts = 0;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const t0 = process.hrtime.bigint();
    const answered = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      probe.pending = () => {
        clearTimeout(timer);
        resolve(true);
      };
      probe.socket.write(probe.request(i));
    });
    probe.pending = undefined;
    if (answered) rtts.push(elapsedMs(t0));
    else timeouts++;
    await sleep(20);
  }
  rtts.sort((a, b) => a - b);
  return {
    samples: rtts.length,
    timeouts,
    p50: percentile(rtts, 50),
    p99: percentile(rtts, 99),
    max: rtts.at(-1),
  };
}

/**
 * The lag probe: one extra connection that measures round trips through the server's event
 * loop. securechat v2: ping/pong; securechat v1 and the bare forwarder: a relay to itself;
 * IRC: PING/PONG.
 */
async function openProbe({ kind, hello, identity }) {
  const probe = { pending: undefined };
  const onLine = (line) => {
    if (probe.pending && probe.matches(line)) probe.pending();
  };
  if (proto === 'irc') {
    Object.assign(probe, {
      kind: 'IRC PING/PONG',
      request: (i) => `PING :probe${i}\r\n`,
      matches: (line) => / PONG /.test(line),
    });
  } else if (kind === 'ours' && hello === 'v2') {
    Object.assign(probe, {
      kind: 'v2 ping/pong',
      request: () => '{"type":"ping"}\n',
      matches: (line) => line.startsWith('{"type":"pong"'),
    });
  } else {
    Object.assign(probe, {
      kind: 'relay to self',
      request: () => relayLine('probe', payload(0, 0, 0)),
      matches: (line) => line.includes('"type":"relay"'),
    });
  }
  probe.socket = await register('probe', onLine, {
    v2: hello === 'v2',
    caps: ['ping'],
    identity,
  });
  return probe;
}

async function idle() {
  const count = Number(args.count ?? 2000);
  const probes = Number(args.probes ?? 50);
  const kind = args.kind ?? (proto === 'irc' ? 'irc' : 'ours');
  // Our idle clients use the v2 hello without the `presence` capability: with v1 every join
  // pushes the whole directory to everyone (O(N²)). The bare forwarder only knows v1.
  let hello = proto === 'irc' ? 'irc' : kind === 'bare' ? 'v1' : (args.hello ?? 'v2');
  let helloNote;
  let identities = hello === 'v2' ? await makeIdentities(count + 1) : [];
  let probe;
  try {
    probe = await openProbe({ kind, hello, identity: identities[count] });
  } catch (error) {
    if (hello !== 'v2') throw error;
    // v2 not available: fall back to v1 and say so in the results.
    helloNote = `v2 hello refused (${error.message.slice(0, 160)}); fell back to v1: every join pushed the user list to everyone`;
    hello = 'v1';
    identities = [];
    probe = await openProbe({ kind, hello });
  }
  const baseline = await roundTrips(probe, probes);
  const t0 = Date.now();
  const sockets = [];
  let failures = 0;
  let firstFailure;
  let retries = 0;
  await pool(count, 100, async (i) => {
    // A refused or reset connection is retried twice, as a client would reconnect; the
    // retries are reported.
    for (let attempt = 0; attempt < 3 && Date.now() < deadline; attempt++) {
      try {
        const options = { v2: hello === 'v2', caps: [], identity: identities[i] };
        sockets.push(await register(`idle${i}`, () => {}, options));
        return;
      } catch (error) {
        if (attempt < 2) retries++;
        else failures++;
        firstFailure ??= error.message;
        await sleep(100);
      }
    }
  });
  console.log(
    JSON.stringify({
      holding: sockets.length,
      failures,
      retries,
      firstFailure,
      registrationSeconds: (Date.now() - t0) / 1000,
      hello,
      helloNote,
      probeKind: probe.kind,
      baseline,
    }),
  );
  // The orchestrator reads the server's RSS now, then asks for the loaded probe, then ends
  // stdin. Bounded by the watchdog.
  for await (const chunk of process.stdin) {
    if (String(chunk).startsWith('PROBE'))
      console.log(JSON.stringify({ probe: await roundTrips(probe, probes) }));
  }
  for (const socket of sockets) socket.destroy();
  probe.socket.destroy();
  return undefined;
}

async function admission() {
  const count = Number(args.count ?? 500);
  const concurrency = Number(args.concurrency ?? 8);
  const serverPid = Number(args['server-pid']);
  // Hook for the identity-proof hello: `--proto sc2` signs a v2 hello per connection (keys
  // generated beforehand, outside the measured window).
  // `--warmup N` unmeasured connects first (a fresh server compiles its connect path on the
  // first few hundred: a daemon that has run for a while pays none of that).
  const warmup = Number(args.warmup ?? 0);
  const identities = proto === 'sc2' ? await makeIdentities(count + warmup) : [];
  await pool(warmup, concurrency, async (i) => {
    const socket = await register(`warm${i}`, () => {}, { identity: identities[count + i] });
    socket.destroy();
  });
  await sleep(200);
  const connectMs = [];
  let failures = 0;
  let firstFailure;
  const cpu0 = cpuSeconds(serverPid);
  const t0 = process.hrtime.bigint();
  await pool(count, concurrency, async (i) => {
    const started = process.hrtime.bigint();
    try {
      const socket = await register(`adm${i}`, () => {}, { identity: identities[i] });
      connectMs.push(elapsedMs(started));
      socket.destroy();
    } catch (error) {
      failures++;
      firstFailure ??= error.message;
    }
  });
  const seconds = elapsedMs(t0) / 1000;
  await sleep(300); // the server finishes closing the last connections (part of the cost)
  const cpu = cpuSeconds(serverPid) - cpu0;
  connectMs.sort((a, b) => a - b);
  return {
    connects: connectMs.length,
    failures,
    firstFailure,
    concurrency,
    seconds,
    connectsPerSecond: connectMs.length / seconds,
    connectP50Ms: percentile(connectMs, 50),
    connectP99Ms: percentile(connectMs, 99),
    serverCpuSeconds: cpu,
    serverCpuMsPerConnect: (cpu * 1000) / connectMs.length,
  };
}

const run = { relay, idle, admission }[mode];
if (!run) {
  console.error('usage: loadgen.mjs relay|idle|admission --proto sc|sc2|irc --port P ...');
  process.exit(2);
}
try {
  const result = await run();
  if (result) console.log(JSON.stringify(result));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
  process.exit(1);
}
