// Load generator, run as its own process (pinned to its own core by bench/run.mjs). Every
// loop is bounded in count and time; a watchdog ends the process after --timeout seconds.
// Prints one JSON result line on stdout (idle mode: several, driven by stdin).
//
//   node bench/loadgen.mjs relay     --proto sc|irc --port P --ca F --server-pid N
//                                    --pairs 50 --messages 2000 --window 32 --warmup 300 --grace 2000
//                                    [--turns 1]  (pipelined: a whole window per write, bench/pipelined.mjs)
//   node bench/loadgen.mjs idle      --proto sc|irc --kind ours|bare|irc --port P --ca F
//                                    --count 2000 --probes 50 [--hello v2|v1] [--caps presence,...]
//   node bench/loadgen.mjs admission --proto sc|sc2|irc --port P --ca F --server-pid N
//                                    --count 500 --concurrency 8
import { makeIdentities } from './lib/clients.mjs';
import { loadgenContext } from './lib/loadgen-common.mjs';
import { relay as relayMode } from './lib/loadgen-relay.mjs';
import { cpuReading, cpuSecondsSince } from './lib/proc.mjs';
import { percentile } from './lib/stats.mjs';

const ctx = loadgenContext(process.argv.slice(2));
const { mode, args, proto, deadline, sleep, elapsedMs, payload, relayLine, register, pool } = ctx;
const relay = () => relayMode(ctx);

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
        // `--caps`: what the held v2 clients ask for (none by default: no pushes to them).
        const caps = args.caps ? String(args.caps).split(',') : [];
        const options = { v2: hello === 'v2', caps, identity: identities[i] };
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
  const cpu0 = cpuReading(serverPid);
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
  const cpu = cpuSecondsSince(serverPid, cpu0);
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
