// The CPU floor of a cross-node relay over Redis Streams (issue 17's "a cross-node relay
// costs ≤ 2× the server CPU of a same-node relay, Redis included"): what any design that
// routes relays through Redis Streams with consumer groups must spend per relay, measured
// with two bare Node processes and a real redis-server, none of our server code:
//
// - node A XADDs entries of k relay items (each ≈ the cluster's item: corr, deadline,
//   sender fields, recipient, cipher length and a 200-byte delivery line) to B's stream
//   (MAXLEN ~), one XADD in flight at a time, at most --budget items awaiting answers;
// - node B reads its stream with XREADGROUP (COUNT 256, BLOCK), splits the items at their
//   newlines, and answers each with its number on a line: one replies entry per read, XADDed
//   to A's stream in the pipeline of its next read, acknowledging (XACK + XTRIM MINID) every
//   256 entries, as src/server/cluster/cluster-inbox.ts does;
// - A reads the replies the same way and counts them.
// Layouts: `one-way` (A→B as above) and `both` (A⇄B: each sends half the items to the other,
// answers the other's and reads both kinds from one stream, as every node of
// `bench/cluster.mjs`'s split-pairs run does); --budget relays awaiting answers per sender
// (the cluster bench has 10 pairs × window 16 = 160 per direction).
//
// No TLS, no JSON, no routing, no delivery to a socket: those are in the same-node relay as
// well. What is left is the Redis hop itself. CPU (utime + stime, all threads) of Redis, A
// and B from /proc over the measured items only, after a warm-up on the same processes;
// µs per relay item. Values `buffer`: entries built as Buffers, read with xreadgroupBuffer
// (no string conversion anywhere); `string`: as the cluster code does today (strings
// joined, read back as strings). Redis runs with AOF on, as in bench/cluster.mjs.
//
//   node bench/cluster-floor.mjs [--k 8,30,53] [--modes buffer,string[,codec]] [--layouts one-way,both]
//                                [--items 300000] [--warmup 100000] [--budget 160] [--reps 1]
//                                [--line 200] [--json] [--record]
import { fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { commandCalls, redisCli, redisServer, stop } from './lib/cluster-procs.mjs';
import { CLK_TCK, cpuSeconds, loadAverage, machine, schedTimes } from './lib/proc.mjs';

const SELF = new URL(import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1];
};
const GROUP = 'node';
const MAXLEN = 100_000;
const TRIM_EVERY = 256;
const NL = 10;
const TAB = 9;

// ---------------------------------------------------------------------------------------
// Children (`--role NAME --peer NAME --url URL --mode buffer|string [--k K --budget N]`):
// each reads its own stream, answers the relay entries it reads and counts the answers to
// its own; with --k it also sends relays to its peer.

/** The items of the relay entries read, answered (`corr\n` each); counts the answer lines read. */
function handler(mode, counts, codec) {
  if (codec) return codecHandler(codec, counts);
  if (mode === 'buffer') {
    const RELAYS = Buffer.from('relays');
    return (entries) => {
      let size = 0;
      for (const [, fields] of entries) size += fields[fields.length - 1].length;
      let out;
      let n = 0;
      for (const [, fields] of entries) {
        const v = fields[fields.length - 1];
        if (fields[1].equals(RELAYS)) {
          out ??= Buffer.allocUnsafe(Math.ceil(size / 8) + 64);
          let start = 0;
          while (start < v.length) {
            const end = v.indexOf(NL, start);
            if (end === -1) break;
            n += v.copy(out, n, start, v.indexOf(TAB, start));
            out[n++] = NL;
            start = end + 1;
          }
        } else {
          let start = 0;
          while (start < v.length) {
            const end = v.indexOf(NL, start);
            if (end === -1) break;
            counts.answered++;
            start = end + 1;
          }
        }
      }
      return out?.subarray(0, n);
    };
  }
  return (entries) => {
    let out;
    for (const [, fields] of entries) {
      const v = fields[fields.length - 1];
      if (fields[1] === 'relays') {
        out ??= '';
        let start = 0;
        while (start < v.length) {
          const end = v.indexOf('\n', start);
          if (end === -1) break;
          out += `${v.slice(start, v.indexOf('\t', start))}\n`;
          start = end + 1;
        }
      } else {
        let start = 0;
        while (start < v.length) {
          const end = v.indexOf('\n', start);
          if (end === -1) break;
          counts.answered++;
          start = end + 1;
        }
      }
    }
    return out;
  };
}

/**
 * `--modes codec`: string values handled by the cluster's own code (dist/, `npm run build`
 * first) instead of bare line splitting: relay items read with unpackRelays (each relay's
 * recipient, delivery line and size taken, as routeLocalLine would), answered with
 * packReplies; answers read with readReplies into the InFlight ring; entries made with
 * appendRelay. Minus the `string` row, it is what that code adds to the hop.
 */
function codecHandler({ unpackRelays, packReplies, readReplies, inFlight }, counts) {
  const delivered = { kind: 'delivered' };
  const answer = (corr, outcome) => inFlight.answer(corr, outcome);
  return (entries) => {
    let corrs;
    let outcomes;
    for (const [, fields] of entries) {
      const v = fields[fields.length - 1];
      if (fields[1] === 'relays') {
        corrs ??= [];
        outcomes ??= [];
        for (const relay of unpackRelays(v)) {
          counts.bytes += relay.line.length + relay.to.length + relay.cipherBytes;
          corrs.push(relay.corr);
          outcomes.push(delivered);
        }
      } else readReplies(v, answer);
    }
    return corrs && packReplies(corrs, outcomes);
  };
}

/**
 * The consumer-group reader loop of the cluster's inbox: the previous read's answers and,
 * every TRIM_EVERY entries, XACK + XTRIM go in the pipeline of the next read.
 */
async function readLoop(reader, stream, consumer, mode, replyTo, handle, heard) {
  let after;
  let handled = [];
  for (;;) {
    const pipeline = reader.pipeline();
    if (after !== undefined)
      pipeline.xadd(replyTo, 'MAXLEN', '~', MAXLEN, '*', 't', 'replies', 'x', after);
    if (handled.length >= TRIM_EVERY) {
      pipeline.xack(stream, GROUP, ...handled);
      pipeline.xtrim(stream, 'MINID', '~', handled[handled.length - 1]);
      handled = [];
    }
    const args = ['GROUP', GROUP, consumer, 'COUNT', 256, 'BLOCK', 2000, 'STREAMS', stream, '>'];
    if (mode === 'buffer') pipeline.xreadgroupBuffer(...args);
    else pipeline.xreadgroup(...args);
    const results = await pipeline.exec();
    after = undefined;
    for (const [error] of results) if (error) throw error;
    const entries = results.at(-1)[1]?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    for (const entry of entries) handled.push(entry[0]);
    after = handle(entries);
    heard();
  }
}

/** k items of the cluster's relay format with a 10-digit corr at the start of each. */
function entryTemplate(k, lineBytes) {
  // (--line: the delivery line's bytes, newline included; 200 by default)
  const cipher = 'A'.repeat(Math.max(1, lineBytes - 128));
  const line = `{"type":"relay","from":"sender01","to":"recipient01","alg":"X25519+AESGCM","nonce":"AAAAAAAAAAAAAAAA","cipher":"${cipher}","id":"m1234"}\n`;
  const rest = `\t1796000000000\tsender01\t${'B'.repeat(43)}=\t\trecipient01\t${cipher.length}\t${line}`;
  const item = `${'0'.repeat(10)}${rest}`;
  return {
    rest,
    buffer: Buffer.from(item.repeat(k)),
    itemBytes: Buffer.byteLength(item),
    lineBytes: line.length,
  };
}

async function child() {
  const self = opt('role');
  const peer = opt('peer');
  const mode = opt('mode', 'buffer');
  const url = opt('url');
  const k = Number(opt('k', 0));
  const budget = Math.max(k, Number(opt('budget', 160)));
  const conn = { maxRetriesPerRequest: 1 };
  const main = new Redis(url, {
    ...conn,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['xadd'],
  });
  const reader = new Redis(url, conn);
  const own = `floor:inbox:${self}`;
  const theirs = `floor:inbox:${peer}`;
  await main.xgroup('CREATE', own, GROUP, '$', 'MKSTREAM').catch(() => {});
  const {
    rest,
    buffer: template,
    itemBytes,
  } = entryTemplate(Math.max(k, 1), Number(opt('line', 200)));
  const counts = { answered: 0, bytes: 0 };
  const codec =
    mode === 'codec'
      ? {
          ...(await import('../dist/server/cluster/inbox-codec.js')),
          inFlight: new (await import('../dist/server/cluster/in-flight.js')).InFlight(),
          relay: new (await import('../dist/protocol/relay-route.js')).SplicedRelay(
            'recipient01',
            'm1234',
            Number(opt('line', 200)) - 128,
            rest.slice(rest.indexOf('"to":'), -1),
          ),
          sender: { name: 'sender01', identityKey: `${'B'.repeat(43)}=`, addressKey: undefined },
        }
      : undefined;
  const answered = () => counts.answered++;
  let corr = 0;
  let target = 0;
  let sent = 0;
  let entries = 0;
  let xadding = false;
  let phaseDone;
  /** One entry of k items: the template with each item's number written in. */
  const makeEntry = () => {
    if (mode === 'buffer') {
      const entry = Buffer.allocUnsafe(template.length);
      template.copy(entry);
      for (let i = 0; i < k; i++) {
        let c = ++corr;
        for (let d = 9; d >= 0; d--) {
          entry[i * itemBytes + d] = 48 + (c % 10);
          c = Math.floor(c / 10);
        }
      }
      return entry;
    }
    const parts = [];
    if (codec) {
      const deadline = Date.now() + 5000;
      for (let i = 0; i < k; i++)
        codec.appendRelay(
          parts,
          codec.inFlight.add(answered, undefined, codec.relay, deadline),
          deadline,
          codec.sender,
          codec.relay,
        );
    } else for (let i = 0; i < k; i++) parts.push(++corr, rest);
    return parts.join('');
  };
  const send = () => {
    while (!xadding && sent < target && sent - counts.answered + k <= budget) {
      xadding = true;
      sent += k;
      entries++;
      main
        .xadd(theirs, 'MAXLEN', '~', MAXLEN, '*', 't', 'relays', 'o', self, 'x', makeEntry())
        .then(() => {
          xadding = false;
          send();
        });
    }
  };
  readLoop(reader, own, self, mode, theirs, handler(mode, counts, codec), () => {
    if (phaseDone && counts.answered >= target) phaseDone();
    else send();
  }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
  process.on('message', async (m) => {
    if (m.stop) process.exit(0);
    if (m.items) {
      target += m.items;
      const entries0 = entries;
      await new Promise((resolve) => {
        phaseDone = resolve;
        send();
      });
      phaseDone = undefined;
      process.send({ done: true, entries: entries - entries0 });
    }
  });
  process.send({ ready: true });
}

// ---------------------------------------------------------------------------------------
// Parent.

/**
 * CPU-s of the children `pid` waited for (cutime + cstime): Redis's background AOF rewrites,
 * which the 100+ MB of entries a measurement appends can start.
 */
function childrenCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/** Background AOF rewrites Redis has done since it started. */
function aofRewrites(url) {
  return Number(/aof_rewrites:(\d+)/.exec(redisCli(url, ['INFO', 'persistence']) ?? '')?.[1] ?? 0);
}

function spawnChild(args) {
  const c = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () =>
    new Promise((resolve, reject) => {
      c.once('message', resolve);
      c.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
  return { c, next };
}

/**
 * One measurement on fresh A and B: `one-way`, A sends all `items` to B, which answers;
 * `both`, each sends half to the other (every node of the cluster bench does both).
 */
async function measure(redisUrl, redisPid, { k, mode, layout }, items, warmup, budget) {
  const admin = new Redis(redisUrl);
  await admin.del('floor:inbox:a', 'floor:inbox:b');
  await admin.quit();
  const common = [
    '--mode',
    mode,
    '--url',
    redisUrl,
    '--budget',
    budget,
    '--line',
    opt('line', 200),
  ];
  const b = spawnChild(['--role', 'b', '--peer', 'a', '--k', layout === 'both' ? k : 0, ...common]);
  const a = spawnChild(['--role', 'a', '--peer', 'b', '--k', k, ...common]);
  await Promise.all([a.next(), b.next()]);
  const senders = layout === 'both' ? [a, b] : [a];
  const phase = async (n) => {
    const answers = senders.map((s) => s.next());
    for (const s of senders) s.c.send({ items: Math.ceil(n / senders.length) });
    return Promise.all(answers);
  };
  await phase(warmup);
  redisCli(redisUrl, ['CONFIG', 'RESETSTAT']);
  const pids = [redisPid, a.c.pid, b.c.pid];
  const rewrites0 = aofRewrites(redisUrl);
  const children0 = childrenCpuSeconds(redisPid);
  const cpu0 = pids.map(cpuSeconds);
  const main0 = pids.map((pid) => schedTimes(pid).run);
  const t0 = performance.now();
  const done = await phase(items);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]);
  const main = pids.map((pid, i) => schedTimes(pid).run - main0[i]);
  // (a rewrite started in the window may end, and be counted, a little after it)
  const rewrites = aofRewrites(redisUrl) - rewrites0;
  cpu[0] += childrenCpuSeconds(redisPid) - children0;
  const calls = commandCalls(redisUrl);
  for (const s of [a, b]) s.c.send({ stop: true });
  await Promise.all(
    [a.c, b.c].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))),
  );
  const us = (s) => +((s / items) * 1e6).toFixed(2);
  const relayEntries = done.reduce((n, d) => n + d.entries, 0);
  return {
    k,
    mode,
    layout,
    itemsPerSecond: Math.round(items / seconds),
    aofRewrites: rewrites,
    redisUs: us(cpu[0]),
    aUs: us(cpu[1]),
    bUs: us(cpu[2]),
    totalUs: us(cpu[0] + cpu[1] + cpu[2]),
    /** A's and B's main threads alone (the rest: V8's GC and compiler threads). */
    aMainUs: us(main[1]),
    bMainUs: us(main[2]),
    itemsPerRelayXadd: +(items / relayEntries).toFixed(1),
    itemsPerXadd: +(items / (calls.xadd ?? 1)).toFixed(1),
    itemsPerRead: +(items / (calls.xreadgroup ?? 1)).toFixed(1),
  };
}

async function parent() {
  const ks = String(opt('k', '8,30,53')).split(',').map(Number);
  const modes = String(opt('modes', 'buffer,string')).split(',');
  const layouts = String(opt('layouts', 'one-way,both')).split(',');
  const items = Number(opt('items', 300_000));
  const warmup = Number(opt('warmup', 100_000));
  const budget = Number(opt('budget', 160));
  const reps = Number(opt('reps', 1));
  const dir = mkdtempSync(join(tmpdir(), 'sc-bench-cluster-floor-'));
  const info = machine();
  const load0 = loadAverage();
  const rows = [];
  const started = new Date();
  const redis = await redisServer(dir);
  try {
    for (let rep = 0; rep < reps; rep++)
      for (const k of ks)
        for (const layout of layouts)
          for (const mode of modes) {
            const shape = { k, mode, layout };
            const row = await measure(redis.url, redis.child.pid, shape, items, warmup, budget);
            process.stderr.write(`${JSON.stringify(row)}\n`);
            rows.push(row);
          }
  } finally {
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
  const load1 = loadAverage();
  const hhmm = (d) => d.toISOString().slice(11, 16);
  const report = [
    '',
    `## ${started.toISOString().slice(0, 10)} ${hhmm(started)}–${hhmm(new Date())} UTC — cross-node relay CPU floor over Redis Streams (issue 17, bench/cluster-floor.mjs) — ${info.model}, ${info.cores} cores, Node ${info.node}`,
    `Command: \`node bench/cluster-floor.mjs ${argv.join(' ')}\` — ${items.toLocaleString('en-US')} relay items measured after ${warmup.toLocaleString('en-US')} unmeasured on the same processes, ≤ ${budget} items awaiting answers, one relay XADD in flight; load average ${load0.join(' ')} before, ${load1.join(' ')} after (shared machine: indicative). µs of CPU per relay item (utime+stime, all threads).`,
    '',
    '| items per relay entry | relays | values | Redis µs (with its AOF rewrites) | A µs | B µs | floor µs (sum) | items per XADD (relays + replies) | items per XREADGROUP | items/s | AOF rewrites |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.itemsPerRelayXadd} | ${r.layout === 'both' ? 'A⇄B' : 'A→B'} | ${r.mode} | ${r.redisUs} | ${r.aUs} | ${r.bUs} | **${r.totalUs}** | ${r.itemsPerXadd} | ${r.itemsPerRead} | ${r.itemsPerSecond.toLocaleString('en-US')} | ${r.aofRewrites} |`,
    ),
    '',
  ].join('\n');
  process.stdout.write(report);
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(rows)}\n`);
  if (argv.includes('--record')) appendFileSync(join(ROOT, 'bench/RESULTS.md'), report);
}

if (opt('role')) child();
else
  parent().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
