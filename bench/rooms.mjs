// Room fan-out with our server: M members join one room; one message goes out to all of
// them (time until the last copy arrives), then S senders keep the room busy (messages/s
// delivered to members). Runs as a separate process pinned to the load-generator core.
//   node bench/rooms.mjs --port P --ca F --server-pid N --members 1000 --senders 10 --messages 200
import { performance } from 'node:perf_hooks';
import { loadCa, makeIdentities, registerSecurechat } from './lib/clients.mjs';
import { cpuSeconds } from './lib/proc.mjs';
import { percentile } from './lib/stats.mjs';

const args = {};
const rest = process.argv.slice(2);
for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
const port = Number(args.port);
const ca = loadCa(args.ca);
const members = Number(args.members ?? 1000);
const senders = Number(args.senders ?? 10);
const perSender = Number(args.messages ?? 200);
const serverPid = Number(args['server-pid']);
const deadline = Date.now() + 180_000;
setTimeout(() => {
  console.log(JSON.stringify({ error: 'timed out' }));
  process.exit(2);
}, 185_000).unref();

const ids = await makeIdentities(members);
let received = 0;
let target = 0;
let onTarget;
const sockets = [];
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < members && Date.now() < deadline) {
      const i = next++;
      const socket = await registerSecurechat({
        port,
        ca,
        name: `m${i}`,
        v2: true,
        caps: ['ack', 'rooms'],
        identity: ids[i],
        onLine: (line) => {
          if (line.startsWith('{"type":"roommsg"')) {
            received++;
            if (received === target) onTarget?.();
          }
        },
      });
      socket.write('{"type":"join","room":"#bench"}\n');
      sockets.push(socket);
    }
  }),
);
await new Promise((r) => setTimeout(r, 1000));
const message = (id) =>
  `{"type":"roommsg","room":"#bench","alg":"SK1+AESGCM+ED25519","header":"AQAAAAEAAAAA","nonce":"AAAAAAAAAAAAAAAA","cipher":"${Buffer.alloc(128, 1).toString('base64')}","sig":"${Buffer.alloc(64, 2).toString('base64')}","id":"${id}"}\n`;

// one message to everyone
const fanouts = [];
for (let round = 0; round < 5; round++) {
  received = 0;
  target = members - 1;
  const t0 = performance.now();
  const done = new Promise((resolve) => {
    onTarget = resolve;
  });
  sockets[0].write(message(`f${round}`));
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  fanouts.push(performance.now() - t0);
}
fanouts.sort((a, b) => a - b);

// a busy room: `senders` members each send `perSender` messages
received = 0;
target = senders * perSender * (members - 1);
const done = new Promise((resolve) => {
  onTarget = resolve;
});
const cpu0 = cpuSeconds(serverPid);
const t0 = performance.now();
for (let s = 0; s < senders; s++) {
  let batch = '';
  for (let m = 0; m < perSender; m++) batch += message(`b${s}-${m}`);
  sockets[s + 1].write(batch);
}
await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
const seconds = (performance.now() - t0) / 1000;
const cpu = cpuSeconds(serverPid) - cpu0;
console.log(
  JSON.stringify({
    members,
    fanoutMs: { p50: percentile(fanouts, 50), max: fanouts.at(-1) },
    busy: {
      senders,
      messages: senders * perSender,
      deliveries: received,
      expected: target,
      seconds,
      deliveriesPerSecond: received / seconds,
      deliveriesPerServerCpuSecond: received / cpu,
    },
  }),
);
for (const socket of sockets) socket.destroy();
process.exit(0);
