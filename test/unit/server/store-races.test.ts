import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../../../src/protocol/index.js';
import { clockWith } from '../../../src/server/clock.js';
import { composeServer, type ServerCore } from '../../../src/server/compose.js';
import { defaultServerConfig, type ServerConfig } from '../../../src/server/config.js';
import { createLogger } from '../../../src/server/logger.js';
import type { RoomPasswordHasher } from '../../../src/server/rooms/password-gate.js';
import type { Session } from '../../../src/server/session.js';
import { type ServerStore, SqliteStore } from '../../../src/server/store/index.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { newIdentity, type TestIdentity, v2Hello } from '../../helpers/v2-hello.js';

/**
 * The hostile-peers races (issue 13) stay closed when the store is slow: every store
 * method here resolves after a delay drawn from a seeded generator (a few event-loop turns
 * before the call and after it), so operations of concurrent sessions interleave in many
 * orders, as they would on a network store. Each race runs under several seeds.
 */

const SEEDS = [1, 2, 3, 5, 8, 13, 21, 34];

/** A seeded generator of delays (event-loop turns). */
function turns(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % 4;
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `target` with every method delayed before and after the real call (but the `…Now` ones,
 * synchronous by contract: a v1 hello's admission, which has no await to race).
 */
function delayed<T extends object>(target: T, next: () => number): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (String(property).endsWith('Now')) return value.bind(object);
      return async (...args: unknown[]) => {
        for (let i = next(); i > 0; i--) await turn();
        const result = await (value as (...a: unknown[]) => unknown).apply(object, args);
        for (let i = next(); i > 0; i--) await turn();
        return result;
      };
    },
  });
}

/** A SQLite store whose every method (mailbox, rooms, lockout too) answers late. */
function delayedStore(seed: number): ServerStore {
  const store = new SqliteStore(':memory:');
  const next = turns(seed);
  const parts = {
    mailbox: delayed(store.mailbox, next),
    rooms: delayed(store.rooms, next),
    lockout: delayed(store.lockout, next),
  };
  const outer = delayed(store, next);
  return new Proxy(outer, {
    get: (object, property) =>
      property in parts ? parts[property as keyof typeof parts] : Reflect.get(object, property),
  });
}

/** A fast stand-in for argon2 that counts the checks it runs. */
class CountingHasher implements RoomPasswordHasher {
  verifies = 0;
  async hash(password: string): Promise<string> {
    return `phc:${password}`;
  }
  async verify(password: string, phc: string): Promise<boolean> {
    this.verifies++;
    await turn();
    return phc === `phc:${password}`;
  }
}

interface Client {
  session: Session;
  transport: FakeTransport;
  send(frame: object): void;
}

const quiet = () =>
  createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });

const cores: ServerCore[] = [];
afterEach(async () => {
  for (const core of cores.splice(0)) await core.close();
});

async function world(seed: number, overrides: Partial<ServerConfig> = {}) {
  const hasher = new CountingHasher();
  const store = delayedStore(seed);
  const config: ServerConfig = { ...defaultServerConfig, rateLimit: false, ...overrides };
  const core = await composeServer(config, quiet(), {
    store,
    hasher,
    clock: clockWith(() => 1_000_000),
  });
  cores.push(core);
  let n = 0;
  const connect = (address = `10.0.0.${++n}`): Client => {
    const transport = new FakeTransport(address, `conn${seed}-${n++}`);
    const session = core.openSession(transport);
    return {
      session,
      transport,
      send: (frame) => session.receive(Buffer.from(`${JSON.stringify(frame)}\n`)),
    };
  };
  const hello = (client: Client, user: string, who: TestIdentity, caps?: string[]) =>
    client.send(v2Hello(client.transport as unknown as TLSSocket, user, who, caps));
  return { core, store, hasher, connect, hello };
}

/** Runs until no session has anything left to do (bounded). */
async function settle(): Promise<void> {
  for (let i = 0; i < 200; i++) await turn();
}

const errors = (client: Client) =>
  client.transport.frames().flatMap((f) => (f.type === 'error' ? [f.code] : []));

describe('races against a delayed store (issue 13 stays closed)', () => {
  it.each(SEEDS)('two connections claiming one name: one gets it (seed %i)', async (seed) => {
    const w = await world(seed);
    const [a, b, c, d] = [w.connect(), w.connect(), w.connect(), w.connect()];
    w.hello(a, 'carol', newIdentity());
    w.hello(b, 'carol', newIdentity());
    c.send({ type: 'hello', user: 'dave', pub: toBase64(Buffer.alloc(32, 1)) });
    d.send({ type: 'hello', user: 'dave', pub: toBase64(Buffer.alloc(32, 2)) });
    await settle();
    const carol = [a, b].filter((x) => x.session.state === 'ready');
    expect(carol).toHaveLength(1);
    const loser = carol[0] === a ? b : a;
    expect(['E_NAME_BOUND', 'E_NAME_TAKEN']).toContain(errors(loser)[0]);
    const binding = await w.store.getBinding('carol');
    expect(binding?.identityKey).toBe(carol[0]!.session.identityKey);
    const dave = [c, d].filter((x) => x.session.state === 'ready');
    expect(dave).toHaveLength(1);
    expect(errors(dave[0] === c ? d : c)).toEqual(['E_NAME_TAKEN']);
    expect(w.core.context.directory.size).toBe(2);
  });

  it.each(SEEDS)('two takers of the last one-time prekey: one gets it (seed %i)', async (seed) => {
    const w = await world(seed);
    const caps = ['ratchet', 'ack'];
    const owner = w.connect();
    w.hello(owner, 'olga', newIdentity(), caps);
    await settle();
    owner.send({ type: 'prekeys', keys: [{ id: 1, pub: toBase64(Buffer.alloc(32, 9)) }] });
    await settle();
    const takers = [w.connect(), w.connect()];
    for (const [i, t] of takers.entries()) w.hello(t, `taker${i}`, newIdentity(), caps);
    await settle();
    for (const t of takers) t.send({ type: 'bundle', user: 'olga', id: 'b' });
    await settle();
    const bundles = takers.flatMap((t) =>
      t.transport.frames().flatMap((f) => (f.type === 'bundle' ? [f] : [])),
    );
    expect(bundles).toHaveLength(2);
    expect(bundles.filter((b) => b.opk !== undefined)).toHaveLength(1);
    expect(await w.store.countPrekeys('olga')).toBe(0);
  });

  it.each(SEEDS)(
    'password attempts racing the lockout: no more checks than attempts (seed %i)',
    async (seed) => {
      const w = await world(seed, { roomPasswordAttempts: 3, passwordQueue: 64 });
      const owner = w.connect('10.0.9.1');
      w.hello(owner, 'boss', newIdentity(), ['rooms']);
      await settle();
      owner.send({ type: 'join', room: '#vault', password: 'right', id: 'j' });
      await settle();
      expect(owner.transport.frames().some((f) => f.type === 'joined')).toBe(true);
      // Ten connections from one address guess at once, three rounds: the address is the
      // lockout's source, and its three attempts are all it gets.
      const guessers = Array.from({ length: 10 }, () => w.connect('10.0.7.7'));
      for (const [i, g] of guessers.entries()) w.hello(g, `guess${i}`, newIdentity(), ['rooms']);
      await settle();
      w.hasher.verifies = 0;
      for (let round = 0; round < 3; round++) {
        for (const [i, g] of guessers.entries())
          g.send({ type: 'join', room: '#vault', password: `w${round}-${i}`, id: `g${round}` });
        await settle();
      }
      expect(w.hasher.verifies).toBeLessThanOrEqual(3);
      for (const g of guessers) {
        expect(g.transport.frames().some((f) => f.type === 'joined' && f.room === '#vault')).toBe(
          false,
        );
      }
      guessers[0]!.send({ type: 'join', room: '#vault', password: 'right', id: 'late' });
      await settle();
      expect(errors(guessers[0]!).at(-1)).toBe('E_LOCKED_OUT');
    },
  );

  it.each(SEEDS)(
    'two senders racing a mailbox quota: one message is kept (seed %i)',
    async (seed) => {
      const w = await world(seed, { mailboxPerRecipient: 1 });
      const who = newIdentity();
      const olive = w.connect();
      w.hello(olive, 'olive', who, ['mailbox', 'ack']);
      await settle();
      olive.session.transportClosed();
      const senders = [w.connect(), w.connect()];
      for (const [i, s] of senders.entries()) w.hello(s, `sender${i}`, newIdentity(), ['ack']);
      await settle();
      for (const s of senders) {
        s.send({
          type: 'relay',
          to: 'olive',
          alg: 'X25519+AESGCM',
          nonce: toBase64(Buffer.alloc(12, 1)),
          cipher: toBase64(Buffer.alloc(24, 2)),
          id: 'm',
        });
      }
      await settle();
      const acks = senders.flatMap((s) =>
        s.transport.frames().flatMap((f) => (f.type === 'ack' ? [f] : [])),
      );
      expect(acks).toEqual([{ type: 'ack', id: 'm', queued: true }]);
      expect(senders.flatMap(errors)).toEqual(['E_MAILBOX_FULL']);
      expect(await w.store.mailbox.pending('olive', 0, 0, 10)).toHaveLength(1);
    },
  );
});
