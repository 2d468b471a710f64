// `npm run bench:cluster` (also `npm run bench -- --only cluster`): scale-out over Redis.
// 1 node (SQLite, no Redis) vs 1 node with --redis vs 2 nodes sharing one redis-server with
// every sender→recipient pair split across the nodes: delivered msgs/s, msgs per CPU-second
// of the servers *and* Redis, latency p50/p99 (send → delivery), lost; then a projection to
// N nodes from the per-message Redis cost. Loopback only; every loop bounded.
//
//   node bench/cluster.mjs [--pairs 20] [--messages 3000] [--window 16] [--warmup 2000]
//                          [--warmup-rounds 1] [--record]
//                          [--only single,same,rtt,cross,workers] [--json]
// --only runs those parts and prints one JSON line (per-pid µs CPU per relay, the ratio)
// instead of the report: what bench/cluster-ab.sh compares between two builds.
// Each measured load follows an unmeasured one of --warmup relays per pair on the same
// daemons (servers run for days: what is measured is compiled code, not the JIT warming up).
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import {
  childPids,
  commandCalls,
  daemon,
  redisCli,
  redisServer,
  stop,
  syscalls,
} from './lib/cluster-procs.mjs';
import { cpuSeconds, loadAverage, machine, schedTimes } from './lib/proc.mjs';
import { percentile } from './lib/stats.mjs';
import { makeCertificate } from './servers.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const SHAPE = {
  PAIRS: opt('pairs', 20),
  MESSAGES: opt('messages', 3000),
  WINDOW: opt('window', 16),
};
const { PAIRS, MESSAGES, WINDOW } = SHAPE;
/** Latency alone: one pair, one relay in flight. */
const RTT = { PAIRS: 1, MESSAGES: Math.min(SHAPE.MESSAGES, 1000), WINDOW: 1 };
/** Relays per pair sent to fresh daemons before measuring (JIT warm-up; not counted). */
const WARMUP = opt('warmup', 2000);
/**
 * Warm-up: WARMUP_ROUNDS loads of WARMUP relays per pair, each on its own connections, then
 * WARMUP more on the measured connections before the measured part. Clients closing
 * deoptimize the relay path (V8 "wrong map" / code dependencies, seen with --trace-deopt:
 * Node's stream code is shared by the TLS and Redis sockets), so a load that started right
 * after one ended paid for recompiling it (TurboFan threads: up to a quarter of the
 * cross-node CPU of a short run); a daemon that has run for a while keeps its code.
 */
const WARMUP_ROUNDS = opt('warmup-rounds', 1);
const RECORD = args.includes('--record');
/** Which parts to run (`--only same,cross`): single, same, rtt, cross, workers; all by default. */
const ONLY = (() => {
  const i = args.indexOf('--only');
  return new Set(i === -1 ? ['single', 'same', 'rtt', 'cross', 'workers'] : args[i + 1].split(','));
})();
/** `--json`: one line of raw results at the end (per-pid CPU), for scripted comparisons. */
const JSON_OUT = args.includes('--json');
/** A v1 line client: hello, then relays with ids (acks come back). */
function client(port, certPem, user) {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: [certPem],
      checkServerIdentity: () => undefined,
    });
    const c = { socket, user, onLine: () => {}, buffer: '' };
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      c.buffer += chunk.toString('utf8');
      let nl = c.buffer.indexOf('\n');
      while (nl !== -1) {
        const line = c.buffer.slice(0, nl);
        c.buffer = c.buffer.slice(nl + 1);
        nl = c.buffer.indexOf('\n');
        if (line) c.onLine(JSON.parse(line));
      }
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      c.onLine = (frame) => {
        if (frame.type === 'welcome') resolve(c);
        else if (frame.type === 'error') reject(new Error(JSON.stringify(frame)));
      };
      socket.write(
        `${JSON.stringify({ type: 'hello', user, pub: Buffer.alloc(32, 1).toString('base64') })}\n`,
      );
    });
  });
}

/** Runs PAIRS senders → receivers; receivers connect to `recvPorts[i % n]`, senders to the other. */
async function load(certPem, senderPorts, receiverPorts, measuredPids, shape = {}) {
  const { PAIRS, MESSAGES, WINDOW } = { ...SHAPE, ...shape };
  const tag = Math.random().toString(36).slice(2, 7);
  const receivers = [];
  const senders = [];
  for (let i = 0; i < PAIRS; i++) {
    receivers.push(await client(receiverPorts[i % receiverPorts.length], certPem, `r${tag}${i}`));
    senders.push(await client(senderPorts[i % senderPorts.length], certPem, `s${tag}${i}`));
  }
  await new Promise((resolve) => setTimeout(resolve, 1500)); // presence reached every node
  const nonce = Buffer.alloc(12).toString('base64');
  /** MESSAGES relays per pair, WINDOW in flight per sender; resolves once all are answered. */
  const phase = (messages) => {
    const counts = { delivered: 0, failed: 0, latencies: [] };
    return Promise.all(
      senders.map(
        (sender, i) =>
          new Promise((resolve) => {
            const receiver = receivers[i];
            let sent = 0;
            let answered = 0;
            let got = 0;
            let failedHere = 0;
            const sendOne = () => {
              const stamp = Buffer.alloc(16);
              stamp.writeDoubleLE(performance.now(), 0);
              stamp.writeUInt32LE(sent, 8);
              sender.socket.write(
                `${JSON.stringify({ type: 'relay', to: receiver.user, alg: 'X25519+AESGCM', nonce, cipher: stamp.toString('base64'), id: `m${sent}` })}\n`,
              );
              sent++;
            };
            const done = () => answered === messages && got + failedHere === messages && resolve();
            receiver.onLine = (frame) => {
              if (frame.type !== 'relay') return;
              const stamp = Buffer.from(frame.cipher, 'base64');
              counts.latencies.push(performance.now() - stamp.readDoubleLE(0));
              got++;
              counts.delivered++;
              done();
            };
            sender.onLine = (frame) => {
              if (frame.type === 'error') {
                counts.failed++;
                failedHere++;
              }
              if (frame.type !== 'ack' && frame.type !== 'error') return;
              answered++;
              if (sent < messages) sendOne();
              done();
            };
            for (let k = 0; k < Math.min(WINDOW, messages); k++) sendOne();
          }),
      ),
    ).then(() => counts);
  };
  // Unmeasured relays on these same connections first (see WARMUP_ROUNDS).
  const warm = shape.warm ?? WARMUP;
  if (warm > 0) await phase(warm);
  const mark = (text) => {
    if (!process.env.BENCH_TRACE_DIR) return;
    for (const pid of measuredPids)
      appendFileSync(join(process.env.BENCH_TRACE_DIR, `${pid}.log`), `=== ${text}\n`);
  };
  mark('measured load starts');
  // (Redis's command counts start here: the warm-up above ran on the same daemons.)
  shape.measuring?.();
  const cpu0 = measuredPids.map(cpuSeconds);
  const main0 = measuredPids.map((pid) => schedTimes(pid).run);
  const sys0 = measuredPids.map(syscalls);
  const t0 = performance.now();
  const { delivered, failed, latencies } = await phase(MESSAGES);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = measuredPids.map((pid, k) => cpuSeconds(pid) - cpu0[k]);
  const main = measuredPids.map((pid, k) => schedTimes(pid).run - main0[k]);
  mark('measured load ends');
  const sys = measuredPids.map((pid, k) => syscalls(pid).map((n, j) => n - sys0[k][j]));
  for (const c of [...senders, ...receivers]) c.socket.destroy();
  latencies.sort((a, b) => a - b);
  const sent = PAIRS * MESSAGES;
  return {
    sent,
    delivered,
    failed,
    lost: sent - delivered - failed,
    msgsPerSecond: delivered / seconds,
    /** CPU-s per measured pid, in the order given. */
    cpuByPid: cpu,
    cpuSeconds: cpu.reduce((a, b) => a + b, 0),
    /** CPU-s of each measured pid's main thread (JavaScript, I/O); the rest is V8's helper
     * threads (garbage collection, compilation) and libuv's pool. */
    mainByPid: main,
    /** Per measured pid and delivered relay: read and write calls, and voluntary wake-ups. */
    perRelay: sys.map(([r, w, v]) => ({
      reads: +(r / delivered).toFixed(2),
      writes: +(w / delivered).toFixed(2),
      wakeups: +(v / delivered).toFixed(2),
    })),
    msgsPerCpuSecond: delivered / cpu.reduce((a, b) => a + b, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** The same load, unmeasured, so the daemons' code is compiled before the measured run. */
async function warm(certPem, senderPorts, receiverPorts) {
  for (let round = 0; WARMUP > 0 && round < WARMUP_ROUNDS; round++)
    await load(certPem, senderPorts, receiverPorts, [], { MESSAGES: WARMUP, warm: 0 });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'securechat-bench-cluster-'));
  const cert = await makeCertificate(dir);
  const certPem = readFileSync(cert.certPath, 'utf8');
  const info = machine();
  const load0 = loadAverage();
  const results = {};
  try {
    // 1 node, no Redis (the default)
    if (ONLY.has('single')) {
      const solo = await daemon(cert);
      await warm(certPem, [solo.port], [solo.port]);
      results.single = await load(certPem, [solo.port], [solo.port], [solo.child.pid]);
      await stop(solo.child);
    }

    const redis = await redisServer(dir);
    // 1 node with --redis: every pair on the same node (Redis off the hot path)
    if (ONLY.has('same') || ONLY.has('rtt')) {
      const one = await daemon(cert, redis.url);
      await warm(certPem, [one.port], [one.port]);
      const pids = [one.child.pid, redis.child.pid];
      if (ONLY.has('same')) results.sameNode = await load(certPem, [one.port], [one.port], pids);
      if (ONLY.has('rtt'))
        results.sameNodeRtt = await load(certPem, [one.port], [one.port], pids, RTT);
      await stop(one.child);
    }
    // 2 nodes, every pair split: senders on a, receivers on b and the other way round
    if (ONLY.has('cross') || ONLY.has('rtt')) {
      const a = await daemon(cert, redis.url);
      const b = await daemon(cert, redis.url);
      await warm(certPem, [a.port, b.port], [b.port, a.port]);
      const pids = [a.child.pid, b.child.pid, redis.child.pid];
      if (ONLY.has('cross')) {
        results.crossNode = await load(certPem, [a.port, b.port], [b.port, a.port], pids, {
          measuring: () => redisCli(redis.url, ['CONFIG', 'RESETSTAT']),
        });
        results.redisCalls = commandCalls(redis.url);
        // Redis's share of the split-pairs run only (its pid was measured last).
        results.redisCpuTotal = results.crossNode.cpuByPid.at(-1);
      }
      if (ONLY.has('rtt'))
        results.crossNodeRtt = await load(certPem, [a.port], [b.port], pids, RTT);
      await stop(a.child);
      await stop(b.child);
    }
    // `serve --workers 2`: one port; the primary hands connections to the workers in turn,
    // so a pair's receiver and sender (connected one after the other) land on different
    // workers. CPU: the primary, both workers and Redis.
    if (ONLY.has('workers')) {
      const workers = await daemon(cert, redis.url, ['--workers', '2']);
      const workerPids = childPids(workers.child.pid);
      await warm(certPem, [workers.port], [workers.port]);
      results.workers = await load(
        certPem,
        [workers.port],
        [workers.port],
        [workers.child.pid, ...workerPids, redis.child.pid],
        { measuring: () => redisCli(redis.url, ['CONFIG', 'RESETSTAT']) },
      );
      results.workersCalls = commandCalls(redis.url);
      results.workerCount = workerPids.length;
      await stop(workers.child);
    }
    await stop(redis.child);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const load1 = loadAverage();
  if (JSON_OUT || ONLY.size < 5) {
    // A partial run (A/B comparisons): per-pid CPU in µs per relay and the ratio, no report.
    const perRelay = (r, key = 'cpuByPid') =>
      r?.[key].map((s) => +((s / r.delivered) * 1e6).toFixed(1));
    const calls = (name) =>
      results.redisCalls &&
      +((results.redisCalls[name] ?? 0) / results.crossNode.delivered).toFixed(4);
    const summary = {
      load: [load0, load1],
      sameUs: perRelay(results.sameNode),
      crossUs: perRelay(results.crossNode),
      sameMainUs: perRelay(results.sameNode, 'mainByPid'),
      crossMainUs: perRelay(results.crossNode, 'mainByPid'),
      // Stream entries (XADD: relay entries and answer entries) and reads per cross-node relay.
      crossCalls: results.redisCalls && { xadd: calls('xadd'), xreadgroup: calls('xreadgroup') },
      ratio:
        results.sameNode && results.crossNode
          ? +(
              results.crossNode.cpuSeconds /
              results.crossNode.delivered /
              (results.sameNode.cpuSeconds / results.sameNode.delivered)
            ).toFixed(2)
          : undefined,
      lost: Object.values(results).reduce((n, r) => n + (r?.lost ?? 0), 0),
      crossRttP50: results.crossNodeRtt?.p50,
      results,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (ONLY.size < 5) return;
  }
  const fmt = (n, d = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const row = (name, r) =>
    `| ${name} | ${fmt(r.delivered)} / ${fmt(r.sent)} | ${fmt(r.failed)} | ${fmt(r.lost)} | ${fmt(r.msgsPerSecond)} | ${fmt(r.cpuSeconds, 2)} | **${fmt(r.msgsPerCpuSecond)}** | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} |`;
  const sum = (xs) => xs.reduce((x, y) => x + y, 0);
  const cpuPerMsgSame = results.sameNode.cpuSeconds / results.sameNode.delivered;
  const cpuPerMsgCross = results.crossNode.cpuSeconds / results.crossNode.delivered;
  const report = [
    '',
    `## ${new Date().toISOString().slice(0, 10)} — scale-out over Redis (issue 17) — ${info.model}, ${info.cores} cores, Node ${info.node}`,
    `Command: \`npm run bench:cluster\` — ${PAIRS} pairs × ${fmt(MESSAGES)} v1 relays (128-bit payload) after ${fmt(WARMUP)} unmeasured relays per pair on the same daemons (warm-up, ${WARMUP_ROUNDS} round(s) on connections then closed) and ${fmt(WARMUP)} more on the measured connections, ${WINDOW} in flight per sender (a sender's next relay goes when an ack or error came back), TLS on loopback, no CPU pinning. CPU = utime+stime of the daemons **and redis-server** over the run. The machine has ${info.cores} cores and was shared with other work (load average ${load0.map((x) => x.toFixed(2)).join(' ')} before, ${load1.map((x) => x.toFixed(2)).join(' ')} after): figures are indicative.`,
    '',
    '| setup | delivered / sent | failed | lost | msgs/s | CPU-s (servers + Redis) | msgs per CPU-s | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|---|---|---|',
    row('1 node, SQLite, no Redis', results.single),
    row('1 node with --redis, pairs on that node', results.sameNode),
    row('2 nodes + Redis, every pair split across nodes', results.crossNode),
    row('latency alone: 1 pair, 1 in flight, same node (with --redis)', results.sameNodeRtt),
    row('latency alone: 1 pair, 1 in flight, across nodes', results.crossNodeRtt),
    row(
      `\`serve --workers 2\` + Redis, one port (pairs split by the primary handing connections out in turn)`,
      results.workers,
    ),
    '',
    `Cross-node relay cost: ${fmt(cpuPerMsgCross * 1e6, 1)} µs CPU per message (daemons + Redis) vs ${fmt(cpuPerMsgSame * 1e6, 1)} µs same-node: ${fmt(cpuPerMsgCross / cpuPerMsgSame, 2)}× (target ≤ 2×). Redis alone: ${fmt((results.redisCpuTotal / results.crossNode.delivered) * 1e6, 1)} µs per cross-node message. Daemons' main threads alone (the rest is V8's garbage collection and compiler threads): ${fmt((sum(results.crossNode.mainByPid.slice(0, 2)) / results.crossNode.delivered) * 1e6, 1)} µs cross-node vs ${fmt((results.sameNode.mainByPid[0] / results.sameNode.delivered) * 1e6, 1)} µs same-node.`,
    `Redis commands per cross-node relay (split-pairs run, INFO commandstats): ${[
      'xadd',
      'xreadgroup',
      'xack',
      'xtrim',
      'xdel',
    ]
      .filter((name) => results.redisCalls[name] !== undefined)
      .map(
        (name) =>
          `${name.toUpperCase()} ${fmt(results.redisCalls[name] / results.crossNode.delivered, 3)}`,
      )
      .join(', ')} (each stream entry and each read carry many relays).`,
    `\`--workers 2\`: ${results.workerCount} worker processes; XADD ${fmt((results.workersCalls.xadd ?? 0) / results.workers.delivered, 3)} per relay (0 would mean no pair was split). Against 1 node: ${fmt(results.workers.msgsPerSecond / results.single.msgsPerSecond, 2)}× the msgs/s (target ≥ 1.6× needs ≥ 4 cores).`,
    `Projection: one Redis core at that cost carries about ${fmt(results.crossNode.delivered / results.redisCpuTotal)} cross-node msgs/s; N nodes scale until the cluster's cross-node traffic reaches that (beyond it, shard by running separate chats per Redis). With ${info.cores} cores the 2-node run competes with Redis and the load generator for the same cores, so it cannot show the ≥ 1.6× throughput target (needs ≥ 4 cores).`,
    '',
  ].join('\n');
  process.stdout.write(report);
  if (RECORD) appendFileSync(join(ROOT, 'bench/RESULTS.md'), report);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
