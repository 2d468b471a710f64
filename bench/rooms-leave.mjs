// What a disconnect costs the rooms with many rooms live: N rooms each hold one resident
// member, then M members each in one room of them disconnect (RoomService.memberLeft and
// the part it announces). In-process, over the built rooms code; reports CPU µs per
// disconnect for several rounds, the minimum being the figure. Compare builds with
// `--dist DIR` (another checkout's dist/).
//   npm run build && node bench/rooms-leave.mjs [--rooms 5000] [--leavers 2000] [--rounds 5] [--dist DIR]
import { distLoader, optionTaker } from './lib/args.mjs';

const valued = optionTaker(process.argv.slice(2));
const load = distLoader(valued('dist'));
const { RoomService } = await load('server/rooms/room-service.js');
const { createLogger } = await load('server/logger.js');
const { ServerStats } = await load('server/stats.js');
const { SqliteStore } = await load('server/store/index.js');

const roomCount = Number(valued('rooms', 5000));
const leavers = Number(valued('leavers', 2000));
const rounds = Number(valued('rounds', 5));
if (!(roomCount > 0 && leavers > 0 && rounds > 0 && roomCount <= 100_000 && leavers <= 100_000))
  throw new Error('--rooms, --leavers: 1..100000; --rounds > 0');

/** The least a member does: counts what it is sent. */
function member(name) {
  return {
    name,
    identityKey: `key-${name}`,
    identityFingerprint: undefined,
    peerJson: '{"pub":"x"}',
    limitKey: `id:${name}`,
    open: true,
    log: { warn() {}, info() {} },
    lines: 0,
    send() {
      this.lines++;
      return true;
    },
    offer() {
      this.lines++;
      return 'queued';
    },
    push() {
      this.lines++;
      return 'queued';
    },
    missedRoomMessage() {},
    failed() {},
  };
}

const rooms = new RoomService({
  store: new SqliteStore(':memory:'),
  gate: undefined,
  logger: createLogger({ level: 'silent' }),
  stats: new ServerStats(),
  admins: new Set(),
  limits: { roomsPerIdentity: 1_000_000, maxRooms: 1_000_000, ttlMs: 3_600_000 },
  router: {
    fanOut(members, line, how, except) {
      let n = 0;
      for (const m of members) if (m !== except && m.push(line, how.kind) === 'queued') n++;
      return n;
    },
  },
  clock: {
    now: () => Date.now(),
    setTimeout: () => undefined,
    clearTimeout() {},
    setInterval: () => undefined,
    clearInterval() {},
  },
});

for (let r = 0; r < roomCount; r++)
  await rooms.handle(member(`resident${r}`), { type: 'join', room: `#r${r}` });

const results = [];
for (let round = 0; round < rounds; round++) {
  const leaving = [];
  for (let i = 0; i < leavers; i++) {
    const m = member(`leaver${round}x${i}`);
    await rooms.handle(m, { type: 'join', room: `#r${i % roomCount}` });
    leaving.push(m);
  }
  const start = process.cpuUsage();
  for (const m of leaving) rooms.memberLeft(m);
  await new Promise((resolve) => setImmediate(resolve)); // the parts' store steps
  const used = process.cpuUsage(start);
  results.push(Math.round(((used.user + used.system) / leavers) * 10) / 10);
}
console.log(
  JSON.stringify({
    rooms: roomCount,
    leavers,
    rounds,
    usPerDisconnect: results,
    min: Math.min(...results),
  }),
);
