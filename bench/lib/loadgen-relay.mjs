// `loadgen.mjs relay`: sender→receiver pairs relaying 128-byte payloads with a window in
// flight per pair; server CPU per message, latency percentiles, stranded and lost messages.
import { tlsDescription } from './clients.mjs';
import { PAYLOAD_BYTES } from './loadgen-common.mjs';
import { cpuReading, cpuSecondsSince, machineCpuSeconds } from './proc.mjs';
import { percentile } from './stats.mjs';

/** The relay mode of the load generator, on its context ({@link loadgenContext}). */
export async function relay(ctx) {
  const {
    args,
    proto,
    deadline,
    sleep,
    payload,
    readPayload,
    isServerError,
    relayLine,
    deliveredBody,
    register,
    pool,
  } = ctx;
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

  const cpu0 = serverPid ? cpuReading(serverPid) : undefined;
  const ownCpu0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const t0 = process.hrtime.bigint();
  startPhase(MEASURED, perPair);
  const complete = await waitQuiet(() => received === pairs * perPair);
  // Read at once when complete; otherwise after the idle grace period (a few ticks at most).
  const cpu = serverPid ? cpuSecondsSince(serverPid, cpu0) : Number.NaN;
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
