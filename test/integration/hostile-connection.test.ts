import { afterEach, describe, expect, it } from 'vitest';
import { PasswordHasher } from '../../src/server/rooms/password-hasher.js';
import { type ServerStore, SqliteStore } from '../../src/server/store/index.js';
import { Attacker, barrier, ChattingPair, loginV2, relayFrame, visit } from '../helpers/hostile.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2';
const VICTIM = '127.0.0.5';
const EVIL = '127.0.0.9';

/** SQLite with a disk that fails for some writes (what a full disk or a bug looks like). */
function failingStore(): ServerStore {
  const store = new SqliteStore(':memory:');
  const mailbox = new Proxy(store.mailbox, {
    get(target, property) {
      if (property === 'enqueue')
        return () => {
          throw new Error('injected store failure in mailbox.enqueue');
        };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const rooms = new Proxy(store.rooms, {
    get(target, property) {
      if (property === 'create')
        return (room: string, owner: string | undefined, now: number, hash?: string) => {
          if (room === '#cursed') throw new Error('injected store failure in rooms.create');
          return target.create(room, owner, now, hash);
        };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, property) {
      if (property === 'mailbox') return mailbox;
      if (property === 'rooms') return rooms;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A hasher whose worker has died: every hash and check rejects. */
class FailingHasher extends PasswordHasher {
  override hash(): Promise<string> {
    return Promise.reject(new Error('injected hasher failure'));
  }
  override verify(): Promise<boolean> {
    return Promise.reject(new Error('injected hasher failure'));
  }
}

describe('hostile connections and failing parts', () => {
  let t: TestServer;
  const attackers: Attacker[] = [];
  afterEach(async () => {
    for (const attacker of attackers.splice(0)) attacker.closeAll();
    await t?.close();
  });

  it('attack 8: after refusing an over-long line the server stops reading and closes within a second', async () => {
    // Failed on the old code: it kept reading (and decrypting) for 2 s after the refusal.
    t = await startTestServer();
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const pusher = await attacker.connect();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const started = Date.now();
    let written = 0;
    const push = () => {
      while (written < 10 * 1024 * 1024 && !pusher.socket.destroyed) {
        written += chunk.length;
        if (!pusher.socket.write(chunk)) {
          pusher.socket.once('drain', push);
          return;
        }
      }
    };
    push();
    await pusher.error('E_FRAME_TOO_LONG');
    await pusher.closed;
    expect(Date.now() - started).toBeLessThan(5000);
    // The server logs the release when its side of the socket is gone.
    for (let i = 0; i < 250 && t.logs.events('connection.released').length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const released = t.logs.events('connection.released');
    expect(released).toHaveLength(1);
    expect(released[0]!.readAfterRefusal as number).toBeLessThanOrEqual(512 * 1024);
    // The default grace is 1 s; allow for a timer firing late on a loaded machine.
    expect(released[0]!.msAfterRefusal as number).toBeLessThan(1000 + 750);
    await pair.stop();
  });

  it('attack 9: a failing store and a failing hasher cost one E_INTERNAL each; everyone else goes on', async () => {
    // Failed on the old code: the store's exception escaped the socket handler and the
    // hasher's rejection was unhandled (either one kills a Node process).
    t = await startTestServer(
      { lobby: '#lobby' },
      { store: failingStore(), hasher: new FailingHasher() },
    );
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    const offlineId = newIdentity();
    await visit(t, 'offline', offlineId, { localAddress: VICTIM });
    const unlucky = await loginV2(t, 'unlucky', newIdentity(), { localAddress: VICTIM });

    unlucky.send(relayFrame('offline', 'to-store'));
    const stored = await unlucky.next((f) => f.type === 'error' && f.ref === 'to-store');
    expect(stored.code).toBe('E_INTERNAL');
    unlucky.send({ type: 'join', room: '#cursed', id: 'create' });
    expect((await unlucky.next((f) => f.ref === 'create')).code).toBe('E_INTERNAL');
    unlucky.send({ type: 'join', room: '#mine', id: 'mine' });
    await unlucky.next((f) => f.type === 'joined' && f.id === 'mine');
    unlucky.send({ type: 'moderate', room: '#mine', action: 'password', password: 'x', id: 'pw' });
    expect((await unlucky.next((f) => f.ref === 'pw')).code).toBe('E_INTERNAL');
    unlucky.send({ type: 'join', room: '#locked', password: 'x', id: 'hash' });
    expect((await unlucky.next((f) => f.ref === 'hash')).code).toBe('E_INTERNAL');
    await barrier(unlucky); // still connected and served
    const internal = t.logs.events('internal_error');
    expect(internal.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(internal[0])).toContain('injected store failure');
    expect(String((internal[0]!.err as { stack?: string }).stack)).toContain('at ');
    unlucky.close();
    await pair.stop();
  });
});
