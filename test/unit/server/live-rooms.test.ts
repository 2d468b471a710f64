import { describe, expect, it } from 'vitest';
import { roomKey } from '../../../src/protocol/index.js';
import { createLogger } from '../../../src/server/logger.js';
import type { RoomMember } from '../../../src/server/rooms/room-host.js';
import { RoomService } from '../../../src/server/rooms/room-service.js';
import { ServerStats } from '../../../src/server/stats.js';
import { SqliteStore } from '../../../src/server/store/index.js';

/** A member that records the room lines it is sent. */
function member(name: string) {
  const lines: string[] = [];
  const m: RoomMember & { lines: string[] } = {
    name,
    identityKey: `key-${name}`,
    identityFingerprint: undefined,
    peerJson: '{"pub":"x"}',
    limitKey: `id:${name}`,
    open: true,
    log: { warn: () => {}, info: () => {} } as unknown as RoomMember['log'],
    lines,
    send(line) {
      lines.push(line);
      return true;
    },
    offer(line) {
      lines.push(line);
      return 'queued';
    },
    push(line) {
      lines.push(line);
      return 'queued';
    },
    missedRoomMessage: () => {},
    failed: () => {},
  };
  return m;
}

function rooms(store: SqliteStore = new SqliteStore(':memory:')) {
  const service = new RoomService<ReturnType<typeof member>>({
    store,
    gate: undefined as never, // no passwords here
    logger: createLogger({ level: 'silent' }),
    stats: new ServerStats(),
    admins: new Set(),
    limits: { roomsPerIdentity: 100, maxRooms: 1000, ttlMs: 3_600_000 },
    router: {
      fanOut(members, line, how, except) {
        let n = 0;
        for (const m of members) if (m !== except && m.push(line, how.kind) === 'queued') n++;
        return n;
      },
    },
    clock: {
      now: () => 1_000_000,
      setTimeout: () => undefined as never,
      clearTimeout: () => {},
      setInterval: () => undefined as never,
      clearInterval: () => {},
    },
  });
  return service;
}

const join = (s: ReturnType<typeof rooms>, m: ReturnType<typeof member>, room: string) =>
  s.handle(m, { type: 'join', room });
const parts = (m: ReturnType<typeof member>) =>
  m.lines
    .map((l) => JSON.parse(l) as { type: string; event?: string; user?: string; room?: string })
    .filter((f) => f.type === 'room' && f.event === 'part')
    .map((f) => `${f.user} ${f.room}`);

/**
 * A disconnect leaves the member's own rooms (an index per member, not a look through every
 * live room), and only where that session still is the member of its name.
 */
describe('RoomService.memberLeft', () => {
  it('takes a member out of exactly its rooms; a newer session of the name keeps its own', async () => {
    const s = rooms();
    const alice = member('alice');
    const bob = member('bob');
    const carol = member('carol');
    for (const room of ['#a', '#b', '#c']) await join(s, carol, room);
    await join(s, alice, '#a');
    await join(s, alice, '#b');
    await join(s, bob, '#b');
    const newer = member('alice'); // the same name from a newer session takes #b over
    await join(s, newer, '#b');
    s.memberLeft(alice);
    await new Promise((resolve) => setImmediate(resolve));
    expect(parts(carol)).toEqual(['alice #a']);
    expect(s.membersOf('#a', carol)).toEqual(['carol']);
    expect(s.membersOf('#b', carol)?.sort()).toEqual(['alice', 'bob', 'carol']);
    expect(s.membersOf('#b', newer)).toBeDefined();
    s.memberLeft(newer);
    s.memberLeft(bob);
    await new Promise((resolve) => setImmediate(resolve));
    expect(parts(carol)).toEqual(['alice #a', 'alice #b', 'bob #b']);
    expect(s.membersOf('#b', carol)).toEqual(['carol']);
    expect(roomKey('#B')).toBe(roomKey('#b'));
  });

  it('a member that disconnects while its join waits on the store is not left in the room', async () => {
    // A network store (Redis) answers markEmpty a turn or more later; SQLite in the same turn.
    const store = new SqliteStore(':memory:');
    let onMarked: (() => void) | undefined;
    const markEmpty = store.rooms.markEmpty.bind(store.rooms);
    store.rooms.markEmpty = async (room, since) => {
      await markEmpty(room, since);
      await new Promise<void>((resolve) => setImmediate(resolve));
      onMarked?.();
    };
    const s = rooms(store);
    const alice = member('alice');
    onMarked = () => {
      (alice as { open: boolean }).open = false; // the connection closed meanwhile
      s.memberLeft(alice);
      onMarked = undefined;
    };
    await join(s, alice, '#new');
    const carol = member('carol');
    await join(s, carol, '#new');
    expect(s.membersOf('#new', carol)).toEqual(['carol']);
  });

  it('a member that disconnects while its role is read is not announced as joined after its part', async () => {
    const store = new SqliteStore(':memory:');
    let onRole: (() => void) | undefined;
    const getRole = store.rooms.getRole.bind(store.rooms);
    store.rooms.getRole = async (room, identityKey) => {
      const role = await getRole(room, identityKey);
      await new Promise<void>((resolve) => setImmediate(resolve));
      onRole?.();
      return role;
    };
    const s = rooms(store);
    const carol = member('carol');
    await join(s, carol, '#a');
    const alice = member('alice');
    onRole = () => {
      onRole = undefined;
      (alice as { open: boolean }).open = false;
      s.memberLeft(alice);
    };
    await join(s, alice, '#a');
    await new Promise((resolve) => setImmediate(resolve));
    const events = carol.lines
      .map((l) => JSON.parse(l) as { event?: string; user?: string })
      .filter((f) => f.user === 'alice')
      .map((f) => f.event);
    expect(events.at(-1)).toBe('part');
    expect(s.membersOf('#a', carol)).toEqual(['carol']);
  });

  it('a member that joins and parts many rooms leaves only the one it is still in', async () => {
    // What a user can do as often as allowed: the per-member index follows each part.
    const s = rooms();
    const alice = member('alice');
    const carol = member('carol');
    await join(s, carol, '#stay');
    for (let i = 0; i < 300; i++) {
      await join(s, alice, `#r${i}`);
      await s.handle(alice, { type: 'part', room: `#r${i}` });
    }
    await join(s, alice, '#stay');
    const partedBefore = parts(alice).length; // its own 300 parts
    s.memberLeft(alice);
    await new Promise((resolve) => setImmediate(resolve));
    expect(parts(carol)).toEqual(['alice #stay']);
    expect(parts(alice).slice(partedBefore)).toEqual(['alice #stay']); // (the double stays open)
  });

  it('a member who parted and joined again leaves the room once on disconnect', async () => {
    const s = rooms();
    const alice = member('alice');
    const carol = member('carol');
    await join(s, carol, '#a');
    await join(s, alice, '#a');
    await s.handle(alice, { type: 'part', room: '#a' });
    await join(s, alice, '#A');
    s.memberLeft(alice);
    s.memberLeft(alice);
    await new Promise((resolve) => setImmediate(resolve));
    expect(parts(carol)).toEqual(['alice #a', 'alice #a']);
    expect(s.membersOf('#a', carol)).toEqual(['carol']);
  });
});
