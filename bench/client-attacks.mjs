// The two memory attacks on a client of issue 12, against a real client (`securechat connect
// --json`, spawned from --cli: this build, or an older one to compare) through our server.
//   rooms:    one room member hands the victim --keys sender keys and, under each, room
//             messages that skip --skipped message keys in all (jumps of half that);
//   sessions: --identities throw-away identities each open --sessions sessions with the
//             victim, each first message skipping --skipped keys.
// Reports the victim's RSS (sampled every 20 ms), the heap it still holds after a full GC
// (bench/lib/heap-probe.cjs) and, after the sessions attack, the size of its state on disk
// and how long it takes to show an ordinary message (median of --probes).
// The attackers are our own code on the protocol core (dist/), like a hostile user's.
//   node bench/client-attacks.mjs --port P --ca F --cli bin/securechat [--keys 300 ...]
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadCa, makeIdentities, registerSecurechat } from './lib/clients.mjs';
import { rssBytes } from './lib/proc.mjs';

const args = {};
const rest = process.argv.slice(2);
for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
const port = Number(args.port);
const ca = loadCa(args.ca);
const cli = args.cli;
const keys = Number(args.keys ?? 300);
const skipped = Number(args.skipped ?? 2000);
const identities = Number(args.identities ?? 25);
const sessionsEach = Number(args.sessions ?? 4);
const probes = Number(args.probes ?? 20);
setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 900_000).unref();

const p = await import(new URL('../dist/protocol/index.js', import.meta.url).href);
const MiB = 1024 * 1024;
const pin = `sha256:${new X509Certificate(ca).fingerprint256.replaceAll(':', '').toLowerCase()}`;
const encoder = new TextEncoder();

/** A victim: a real client in --json mode; resolves events by predicate. */
function startVictim(name) {
  const home = mkdtempSync(join(tmpdir(), 'securechat-bench-victim-'));
  const heapFile = join(home, 'heap.json');
  const proc = spawn(
    process.execPath,
    [
      '--expose-gc',
      '-r',
      new URL('./lib/heap-probe.cjs', import.meta.url).pathname,
      cli,
      'connect',
      name,
      '127.0.0.1',
      String(port),
      '--pin',
      pin,
      '--json',
      '--home',
      home,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_HEAP_FILE: heapFile } },
  );
  const waiters = [];
  let buffer = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line);
      for (const w of [...waiters]) {
        if (w.test(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  const until = (test, timeoutMs = 600_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('victim: timed out')), timeoutMs);
      const settle = (event) => {
        clearTimeout(timer);
        resolve(event);
      };
      waiters.push({ test, resolve: settle });
    });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(proc.pid));
    } catch {}
  }, 20);
  return {
    proc,
    home,
    until,
    send: (line) => proc.stdin.write(`${line}\n`),
    rss: () => rssBytes(proc.pid),
    peak: () => peak,
    resetPeak: () => {
      peak = rssBytes(proc.pid);
    },
    stateBytes: () =>
      readdirSync(join(home, 'sessions')).reduce(
        (n, f) => n + statSync(join(home, 'sessions', f)).size,
        0,
      ),
    /** The heap the victim holds after a full GC (bytes). */
    heldHeap: async () => {
      rmSync(heapFile, { force: true });
      proc.kill('SIGUSR2');
      for (let i = 0; i < 500 && !existsSync(heapFile); i++)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
      return JSON.parse(readFileSync(heapFile, 'utf8')).heapUsed;
    },
    stop: () => {
      clearInterval(sampler);
      proc.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A hostile user: registered with its own identity, a line reader, request/answer by id. */
async function hostile(name, identity, caps) {
  const pending = new Map();
  const acks = new Set();
  let ackWaiter;
  const socket = await registerSecurechat({
    port,
    ca,
    name,
    v2: true,
    caps,
    identity,
    onLine: (line) => {
      const frame = JSON.parse(line);
      if (frame.type === 'ack') {
        acks.add(frame.id);
        ackWaiter?.();
      } else if (frame.id !== undefined && pending.has(frame.id)) pending.get(frame.id)(frame);
      else if (frame.ref !== undefined && pending.has(frame.ref)) pending.get(frame.ref)(frame);
    },
  });
  let next = 0;
  const request = (frame) =>
    new Promise((resolve) => {
      const id = `${name}-${++next}`;
      pending.set(id, resolve);
      socket.write(`${JSON.stringify({ ...frame, id })}\n`);
    });
  const write = (frame) =>
    new Promise((resolve) => {
      if (socket.write(`${JSON.stringify(frame)}\n`)) resolve();
      else socket.once('drain', resolve);
    });
  /** Waits until the server acknowledged every relay sent with an id so far. */
  const settled = async (count) => {
    while (acks.size < count) await new Promise((r) => (ackWaiter = r));
  };
  return { socket, request, write, settled };
}

/** A session with a victim from its bundle (X3DH), as any initiator makes it. */
async function sessionWith(user, who, victim) {
  const bundle = await user.request({ type: 'bundle', user: victim });
  if (bundle.type !== 'bundle') throw new Error(`no bundle: ${JSON.stringify(bundle)}`);
  return p.initiateSession(who.identity, {
    identityKey: p.fromBase64(bundle.idk, 'idk', 32),
    signedPrekey: p.fromBase64(bundle.pub, 'pub', 32),
    signedPrekeySignature: p.fromBase64(bundle.sig, 'sig', 64),
  });
}

/** A relay to a victim under the derived nonce (which every version opens). */
function relayFrom(state, to, content, id) {
  const out = p.ratchetEncrypt(state, encoder.encode(content), { alg: p.ALG_V2 });
  return {
    state: out.state,
    frame: {
      type: 'relay',
      to,
      alg: out.alg,
      header: p.toBase64(out.header),
      nonce: p.toBase64(out.nonce),
      cipher: p.toBase64(out.ciphertext),
      ...(id ? { id } : {}),
    },
  };
}

/** Moves a sending chain `n` message keys ahead without sending (the receiver will skip them). */
function skipAhead(state, n) {
  for (let i = 0; i < n; i++) state.sendChain = p.kdfChainKey(state.sendChain).chainKey;
  state.ns += n;
}

const CAPS = ['ack', 'ratchet', 'mailbox', 'rooms'];
const [malloryId, friendId, ...throwers] = await makeIdentities(2 + identities);
const result = { keys, skipped, identities, sessionsEach };

// --- rooms: one member, many sender keys, thousands of skipped keys each ---
{
  const victim = startVictim('roomvictim');
  await victim.until((e) => e.kind === 'users');
  const mallory = await hostile('mallory', malloryId, CAPS);
  victim.send('/join #club');
  await victim.until((e) => e.kind === 'room' && e.event === 'joined');
  await mallory.request({ type: 'join', room: '#club' });
  await victim.until((e) => e.kind === 'room' && e.event === 'join' && e.user === 'mallory');
  await new Promise((r) => setTimeout(r, 500));
  const heldBefore = await victim.heldHeap();
  const before = victim.rss();
  victim.resetPeak();
  const started = performance.now();
  let state = await sessionWith(mallory, malloryId, 'roomvictim');
  let last;
  for (let k = 0; k < keys; k++) {
    const key = p.createSenderKey();
    const d = p.distributionOf(key);
    const sk = JSON.stringify({
      t: 'sk',
      room: '#club',
      keyId: d.keyId,
      iteration: d.iteration,
      chainKey: p.toBase64(d.chainKey),
      signingKey: p.toBase64(d.signingPublicKey),
    });
    const relay = relayFrom(state, 'roomvictim', sk);
    state = relay.state;
    await mallory.write(relay.frame);
    for (const at of [Math.floor(skipped / 2), skipped]) {
      for (let i = key.iteration; i < at; i++) key.chainKey = p.kdfChainKey(key.chainKey).chainKey;
      key.iteration = at;
      const text = k === keys - 1 && at === skipped ? 'the last one' : 'x';
      const sealed = p.sealRoomMessage(
        key,
        '#club',
        'mallory',
        encoder.encode(JSON.stringify({ t: 'text', text })),
        { alg: p.ALG_ROOM },
      );
      await mallory.write({
        type: 'roommsg',
        room: '#club',
        alg: sealed.alg,
        header: p.toBase64(sealed.header),
        nonce: p.toBase64(sealed.nonce),
        cipher: p.toBase64(sealed.cipher),
        sig: p.toBase64(sealed.signature),
      });
    }
    last = key;
  }
  await victim.until((e) => e.kind === 'message' && e.text === 'the last one');
  result.rooms = {
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: before / MiB,
    rssPeakMiB: victim.peak() / MiB,
    rssAfterMiB: victim.rss() / MiB,
    heapHeldBeforeMiB: heldBefore / MiB,
    heapHeldAfterMiB: (await victim.heldHeap()) / MiB,
    lastIteration: last.iteration,
  };
  mallory.socket.destroy();
  victim.stop();
}

// --- sessions: throw-away identities, each opening sessions that skip thousands of keys ---
{
  const victim = startVictim('sessionvictim');
  await victim.until((e) => e.kind === 'users');
  await new Promise((r) => setTimeout(r, 500));
  const heldBefore = await victim.heldHeap();
  const before = victim.rss();
  victim.resetPeak();
  const started = performance.now();
  for (const [i, who] of throwers.entries()) {
    const user = await hostile(`throwaway${i}`, who, CAPS);
    let sent = 0;
    for (let s = 0; s < sessionsEach; s++) {
      let state = await sessionWith(user, who, 'sessionvictim');
      for (const at of [Math.floor(skipped / 2), skipped]) {
        skipAhead(state, at - state.ns);
        const relay = relayFrom(
          state,
          'sessionvictim',
          '{"t":"text","text":"hi"}',
          `t${i}-${++sent}`,
        );
        state = relay.state;
        await user.write(relay.frame);
      }
    }
    await user.settled(sent);
    user.socket.destroy();
  }
  // An ordinary friend's messages: how long the victim takes to show each one now.
  const friend = await hostile('friend', friendId, CAPS);
  let state = await sessionWith(friend, friendId, 'sessionvictim');
  const latencies = [];
  for (let i = 0; i <= probes; i++) {
    const text = `probe ${i}`;
    const relay = relayFrom(state, 'sessionvictim', JSON.stringify({ t: 'text', text }));
    state = relay.state;
    const shown = victim.until((e) => e.kind === 'message' && e.text === text);
    const t0 = performance.now();
    await friend.write(relay.frame);
    await shown;
    if (i > 0) latencies.push(performance.now() - t0); // the first one also set the session up
  }
  latencies.sort((a, b) => a - b);
  result.sessions = {
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: before / MiB,
    rssPeakMiB: victim.peak() / MiB,
    rssAfterMiB: victim.rss() / MiB,
    heapHeldBeforeMiB: heldBefore / MiB,
    heapHeldAfterMiB: (await victim.heldHeap()) / MiB,
    stateBytes: victim.stateBytes(),
    messageMsP50: latencies[Math.floor(latencies.length / 2)],
    messageMsMax: latencies.at(-1),
  };
  friend.socket.destroy();
  victim.stop();
}

console.log(JSON.stringify(result));
process.exit(0);
