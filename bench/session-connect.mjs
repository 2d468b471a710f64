// Our own JavaScript per v1 connect, without TLS or sockets: a session over an in-memory
// transport is opened, sent a v1 hello, welcomed, then closed, 8 at a time (so joins and
// leaves push `users` to the others, as in the admission storm). Reports CPU µs per connect
// (process.cpuUsage) for several rounds; the minimum is the figure (a shared machine only
// ever adds). Compare builds with `--dist DIR` (another checkout's dist/). `--online N`: N
// v1 sessions stay online throughout (each welcome carries all of them, each push goes to them).
//   npm run build && node bench/session-connect.mjs [--connects 5000] [--rounds 5] [--online 0] [--dist DIR]
import { Writable } from 'node:stream';
import { distLoader, optionTaker } from './lib/args.mjs';

const valued = optionTaker(process.argv.slice(2));
const load = distLoader(valued('dist'));
const { composeServer } = await load('server/compose.js');
const { defaultServerConfig } = await load('server/config.js');
const { createLogger } = await load('server/logger.js');
const { SqliteStore } = await load('server/store/index.js');

const connects = Number(valued('connects', 5000));
const rounds = Number(valued('rounds', 5));
const online = Number(valued('online', 0));
const concurrency = 8;

/** The least a transport does: counts what it is given. */
class NullTransport {
  writableLength = 0;
  bytesRead = 0;
  written = 0;
  constructor(n) {
    this.remoteAddress = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    this.addressKey = this.remoteAddress;
    this.remote = `${this.remoteAddress}:40000`;
  }
  write(data) {
    this.written += data.length;
  }
  pause() {}
  resume() {}
  whenDrained(callback) {
    setImmediate(callback);
  }
  end() {}
  destroy() {}
  keepAlive() {}
}

const quiet = createLogger({
  level: 'warn',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const config = {
  ...defaultServerConfig,
  rateLimit: false,
  maxConnections: 1_000_000,
  maxConnectionsPerIp: 1_000_000,
  newNamesPerAddress: 1_000_000,
  newNamesPerHour: 1_000_000,
};
const core = await composeServer(config, quiet, {
  store: new SqliteStore(':memory:'),
  hasher: { hash: async (p) => p, verify: async () => false },
  clock: {
    now: () => Date.now(),
    setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
    clearTimeout: (handle) => clearTimeout(handle),
    setInterval: (callback, ms) => setInterval(callback, ms).unref(),
    clearInterval: (handle) => clearInterval(handle),
  },
});
const PUB = Buffer.alloc(32, 7).toString('base64');
let serial = 0;

async function openOne() {
  const n = ++serial;
  const transport = new NullTransport(n);
  const session = core.openSession(transport);
  session.receive(Buffer.from(`{"type":"hello","user":"c${n}","pub":"${PUB}"}\n`));
  for (let i = 0; i < 100 && session.state === 'awaiting-hello'; i++)
    await new Promise((resolve) => setImmediate(resolve));
  if (session.state !== 'ready') throw new Error(`not admitted: ${session.state}`);
  return session;
}

async function connectOnce() {
  const session = await openOne();
  await new Promise((resolve) => setImmediate(resolve)); // the presence push goes out
  core.closed(session);
}

for (let i = 0; i < online; i++) await openOne(); // held until the end

async function storm(count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await connectOnce();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

await storm(1000); // warm-up: the connect path compiled
const results = [];
for (let r = 0; r < rounds; r++) {
  const before = process.cpuUsage();
  await storm(connects);
  const used = process.cpuUsage(before);
  results.push((used.user + used.system) / connects);
}
const min = Math.min(...results);
console.log(
  JSON.stringify({
    connects,
    rounds,
    online,
    usPerConnect: results.map((x) => Math.round(x * 10) / 10),
    min: Math.round(min * 10) / 10,
  }),
);
await core.close();
process.exit(0);
