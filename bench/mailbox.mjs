// Mailbox delivery with our server: one user receives N messages stored while offline
// (default 10,000), delivered on login in pages (the next after the client's `fetched`).
// Reports the time from the hello to the last message and the server's RSS before the
// login and at its peak during delivery (sampled every 10 ms from /proc).
// Runs as a separate process pinned to the load-generator core.
//   node bench/mailbox.mjs --port P --ca F --server-pid N --messages 10000 --bytes 512
import { performance } from 'node:perf_hooks';
import { loadCa, makeIdentities, registerSecurechat } from './lib/clients.mjs';
import { rssBytes } from './lib/proc.mjs';

const args = {};
const rest = process.argv.slice(2);
for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
const port = Number(args.port);
const ca = loadCa(args.ca);
const total = Number(args.messages ?? 10_000);
const cipherBytes = Number(args.bytes ?? 512);
const serverPid = Number(args['server-pid']);
setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 300_000).unref();

const [inboxId, senderId] = await makeIdentities(2);
/** The recipient's login, with the mailbox capability. */
const loginInbox = (onLine) =>
  registerSecurechat({
    port,
    ca,
    name: 'inbox',
    v2: true,
    caps: ['ack', 'mailbox'],
    identity: inboxId,
    ...(onLine ? { onLine } : {}),
  });
// The recipient registers once and leaves.
const first = await loginInbox();
await new Promise((resolve) => {
  first.once('close', resolve);
  first.end();
});
await new Promise((r) => setTimeout(r, 200));

// One sender stores `total` messages, at most 256 waiting for their ack at a time.
let acked = 0;
let refused = '';
let onAck;
const sender = await registerSecurechat({
  port,
  ca,
  name: 'filler',
  v2: true,
  caps: ['ack'],
  identity: senderId,
  onLine: (line) => {
    if (line.startsWith('{"type":"ack"')) acked++;
    else if (line.startsWith('{"type":"error"')) {
      acked++;
      refused ||= line;
    }
    onAck?.();
  },
});
const cipher = Buffer.alloc(cipherBytes, 7).toString('base64');
const relay = (i) =>
  `{"type":"relay","to":"inbox","alg":"X3DH+DR+AESGCM","header":"${Buffer.alloc(42, 1).toString('base64')}","nonce":"AAAAAAAAAAAAAAAA","cipher":"${cipher}","id":"m${i}"}\n`;
const storeStart = performance.now();
for (let sent = 0; sent < total; ) {
  let batch = '';
  while (sent < total && sent - acked < 256) batch += relay(sent++);
  sender.write(batch);
  await new Promise((resolve) => {
    onAck = () => {
      if (acked === sent || sent - acked < 128) resolve();
    };
  });
}
while (acked < total) await new Promise((r) => setTimeout(r, 10));
const storeSeconds = (performance.now() - storeStart) / 1000;
sender.destroy();
if (refused) {
  console.log(JSON.stringify({ error: `storing refused: ${refused}` }));
  process.exit(1);
}
await new Promise((r) => setTimeout(r, 500));

// The recipient logs in and reads everything, acknowledging what arrived after each chunk
// (as our client does); the server sends a page, then the next after `fetched`.
const rssBefore = rssBytes(serverPid);
let peak = rssBefore;
const sampler = setInterval(() => {
  peak = Math.max(peak, rssBytes(serverPid));
}, 10);
const seen = new Set();
let highest = 0;
let lastArrival = 0;
let done;
const finished = new Promise((resolve) => {
  done = resolve;
});
let ackScheduled = false;
const loginStart = performance.now();
const inbox = await loginInbox((line) => {
  if (!line.startsWith('{"type":"relay"')) return;
  const seq = Number(/"seq":(\d+)/.exec(line)?.[1]);
  seen.add(/"id":"(m\d+)"/.exec(line)?.[1]);
  highest = Math.max(highest, seq);
  lastArrival = performance.now();
  if (seen.size === total) done();
  if (!ackScheduled) {
    ackScheduled = true;
    setImmediate(() => {
      ackScheduled = false;
      inbox.write(`{"type":"fetched","upto":${highest}}\n`);
    });
  }
});
const welcomed = performance.now();
await Promise.race([finished, new Promise((r) => setTimeout(r, 240_000))]);
clearInterval(sampler);
peak = Math.max(peak, rssBytes(serverPid));
inbox.destroy();
console.log(
  JSON.stringify({
    messages: total,
    expected: total, // summed over repetitions, like delivered
    delivered: seen.size,
    lineBytes: relay(0).length,
    storeSeconds,
    welcomeMs: welcomed - loginStart,
    drainSeconds: (lastArrival - loginStart) / 1000,
    messagesPerSecond: seen.size / ((lastArrival - loginStart) / 1000),
    rssBeforeMiB: rssBefore / 2 ** 20,
    rssPeakMiB: peak / 2 ** 20,
  }),
);
process.exit(0);
