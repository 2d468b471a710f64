import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/server/store/index.js';
import { RedisStore } from '../../../src/server/store/redis/redis-store.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';

/**
 * The Redis store against a real redis-server: the same atomic methods as SQLite
 * (store-atomic.test.ts), the same answers as SQLite for a random mailbox workload, and the
 * races that matter once several nodes share it (each node has its own connection).
 */
let redis: TestRedis;
let prefixes = 0;
const stores: RedisStore[] = [];
/** A store on its own connection, as one node of a cluster sees it. */
function node(prefix: string): RedisStore {
  const store = new RedisStore(redis.client(), { prefix, nodeId: `n${stores.length}` });
  stores.push(store);
  return store;
}
const fresh = () => `t${++prefixes}`;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.close();
});

const roomy = {
  perRecipient: 1000,
  perSender: 1000,
  messageMaxBytes: 1000,
  recipientBytes: 1e9,
  senderBytes: 1e9,
  addressBytes: 1e9,
  totalBytes: 1e9,
};
const line = (bytes: number) => `{"type":"relay","cipher":"${'A'.repeat(bytes - 29)}"}\n`;

describe('RedisStore: names', () => {
  const limits = { namesPerIdentity: 2 };

  it('binds, grants again to its holder, refuses another identity and past the cap', async () => {
    const store = node(fresh());
    expect(await store.claimName('Alice', 'idA', 10, limits)).toMatchObject({
      ok: true,
      created: true,
      binding: { name: 'Alice', identityKey: 'idA', firstSeen: 10, lastSeen: 10, caps: [] },
    });
    expect(await store.claimName('alice', 'idA', 20, limits)).toMatchObject({
      ok: true,
      created: false,
    });
    expect(await store.claimName('ALICE', 'idB', 30, limits)).toMatchObject({
      ok: false,
      reason: 'bound',
      binding: { identityKey: 'idA' },
    });
    await store.claimName('a2', 'idA', 0, limits);
    expect(await store.claimName('a3', 'idA', 0, limits)).toEqual({
      ok: false,
      reason: 'identity_cap',
    });
    expect(await store.countBindings('idA')).toBe(2);
    await store.touchBinding('alice', 99, { pub: 'P', pubsig: 'S', caps: ['mailbox'] });
    expect(await store.getBinding('ALICE')).toMatchObject({
      pub: 'P',
      pubsig: 'S',
      caps: ['mailbox'],
      lastSeen: 99,
    });
  });

  it('of claims of one name from three nodes at once, exactly one identity gets it', async () => {
    const prefix = fresh();
    const nodes = [node(prefix), node(prefix), node(prefix)];
    const claims = await Promise.all(
      ['idA', 'idB', 'idC'].map((id, i) => nodes[i]!.claimName('bob', id, 0, limits)),
    );
    expect(claims.filter((c) => c.ok && c.created)).toHaveLength(1);
    expect(claims.filter((c) => !c.ok && c.reason === 'bound')).toHaveLength(2);
  });

  it('expires unused names like SQLite does, with their prekeys and stored messages', async () => {
    const store = node(fresh());
    const day = 24 * 3_600_000;
    const lifetimes = { trialTtlMs: 7 * day, ttlMs: 365 * day };
    await store.claimName('trial', 'idT', 0, limits);
    await store.claimName('kept', 'idK', 0, limits);
    await store.claimName('est', 'idE', 0, limits);
    await store.touchBinding('est', 2 * day);
    await store.addPrekeys('trial', [{ id: 1, pub: 'p' }], 10, 0);
    await store.addKemPrekeys('trial', [{ id: 1, created: 0, pub: 'k', sig: 's' }], 10, 0);
    await store.mailbox.enqueue(
      { recipient: 'trial', sender: 's', senderKey: 'k', line: line(50) },
      0,
      roomy,
    );
    const freed = await store.expireBindings(8 * day, lifetimes, (name) => name === 'kept');
    expect(freed).toEqual(['trial']);
    expect(await store.getBinding('trial')).toBeUndefined();
    expect(await store.countPrekeys('trial')).toBe(0);
    expect(await store.countKemPrekeys('trial')).toBe(0);
    expect(await store.mailbox.totalBytes()).toBe(0);
    expect(await store.countBindings('idT')).toBe(0);
    expect(await store.getBinding('est')).toBeDefined();
  });
});

describe('RedisStore: prekeys', () => {
  it('hands each one-time prekey out once, oldest first, and says how many are left', async () => {
    const store = node(fresh());
    expect(
      await store.addPrekeys(
        'alice',
        [3, 1, 2].map((id) => ({ id, pub: `pub${id}` })),
        10,
        0,
      ),
    ).toBe(3);
    expect(await store.addPrekeys('alice', [{ id: 9, pub: 'late' }], 4, 5)).toBe(4);
    expect(await store.addPrekeys('alice', [{ id: 10, pub: 'over' }], 4, 6)).toBe(4);
    const takes = [];
    for (let i = 0; i < 5; i++) takes.push(await store.takePrekey('ALICE'));
    expect(takes.map((t) => t.prekey?.id)).toEqual([1, 2, 3, 9, undefined]);
    expect(takes.map((t) => t.left)).toEqual([3, 2, 1, 0, 0]);
    expect(
      await store.addPrekeys(
        'alice',
        [
          { id: 1, pub: 'x' },
          { id: 2, pub: 'y' },
        ],
        10,
        7,
      ),
    ).toBe(2);
    expect(await store.addPrekeys('alice', [{ id: 5, pub: 'z' }], 10, 8, true)).toBe(1);
  });

  it('two nodes asking for the last one-time prekey at the same instant: exactly one gets it', async () => {
    const prefix = fresh();
    const [a, b] = [node(prefix), node(prefix)];
    for (let round = 0; round < 50; round++) {
      await a.addPrekeys('carol', [{ id: round, pub: `p${round}` }], 100, round);
      const takes = await Promise.all([a.takePrekey('carol'), b.takePrekey('carol')]);
      const got = takes.filter((t) => t.prekey !== undefined);
      expect(got).toHaveLength(1);
      expect(got[0]?.prekey).toEqual({ id: round, pub: `p${round}` });
    }
  });

  it('keeps the current and previous signed prekey, refusing older ones', async () => {
    const store = node(fresh());
    const spk = (id: number, created: number) => ({
      id,
      created,
      pub: `p${id}`,
      sig: 's',
      pubsig: 'ps',
    });
    expect(await store.putSignedPrekey('al', 'x25519', spk(1, 100), 0)).toEqual({
      current: spk(1, 100),
      accepted: true,
    });
    expect(await store.putSignedPrekey('al', 'x25519', spk(1, 100), 0)).toEqual({
      current: spk(1, 100),
      accepted: true,
    });
    expect(await store.putSignedPrekey('al', 'x25519', spk(0, 50), 0)).toEqual({
      current: spk(1, 100),
      accepted: false,
    });
    expect((await store.putSignedPrekey('al', 'x25519', spk(2, 200), 0)).accepted).toBe(true);
    expect(await store.signedPrekey('AL', 'x25519')).toEqual(spk(2, 200));
    expect(await store.signedPrekey('al', 'x25519', 'previous')).toEqual(spk(1, 100));
  });
});

describe('RedisStore: one-time KEM prekeys (PQXDH)', () => {
  const kem = (id: number, pub = `pub${id}`) => ({ id, created: 100 + id, pub, sig: `sig${id}` });

  it('gives the same answers as SQLite: each once, oldest first, the cap, replace', async () => {
    const redisStore = node(fresh());
    const sqlite = new SqliteStore(':memory:');
    for (const store of [redisStore, sqlite]) {
      const answers: unknown[] = [];
      answers.push(
        await store.addKemPrekeys(
          'alice',
          [3, 1, 2].map((id) => kem(id)),
          10,
          0,
        ),
      );
      answers.push(await store.addKemPrekeys('alice', [kem(9)], 4, 5));
      answers.push(await store.addKemPrekeys('alice', [kem(10)], 4, 6)); // over the cap
      answers.push(await store.addKemPrekeys('alice', [kem(9, 'again')], 4, 6)); // at the cap: ignored
      for (let i = 0; i < 5; i++) answers.push(await store.takeKemPrekey('ALICE'));
      answers.push(await store.addKemPrekeys('alice', [kem(1), kem(2)], 10, 7));
      answers.push(await store.addKemPrekeys('alice', [kem(5)], 10, 8, true));
      answers.push(await store.countKemPrekeys('Alice'));
      expect(answers).toEqual([
        3,
        4,
        4,
        4,
        { prekey: kem(1), left: 3 },
        { prekey: kem(2), left: 2 },
        { prekey: kem(3), left: 1 },
        { prekey: kem(9), left: 0 },
        { prekey: undefined, left: 0 },
        2,
        1,
        1,
      ]);
    }
  });

  it('two nodes asking for the last one-time KEM prekey at the same instant: exactly one gets it', async () => {
    const prefix = fresh();
    const [a, b] = [node(prefix), node(prefix)];
    for (let round = 0; round < 50; round++) {
      await a.addKemPrekeys('carol', [kem(round)], 100, round);
      const takes = await Promise.all([a.takeKemPrekey('carol'), b.takeKemPrekey('carol')]);
      const got = takes.filter((t) => t.prekey !== undefined);
      expect(got).toHaveLength(1);
      expect(got[0]?.prekey).toEqual(kem(round));
    }
  });
});

describe('RedisStore: mailbox', () => {
  it('refuses by size, recipient, pair, sender identity, address and total', async () => {
    const store = node(fresh());
    const m = (over: Partial<typeof roomy>) => ({ ...roomy, ...over });
    const msg = (to: string, from: string, key: string, address?: string, bytes = 100) => ({
      recipient: to,
      sender: from,
      senderKey: key,
      ...(address ? { senderAddress: address } : {}),
      line: line(bytes),
    });
    expect(
      await store.mailbox.enqueue(msg('r', 's', 'k', 'a', 200), 0, m({ messageMaxBytes: 199 })),
    ).toEqual({ ok: false, reason: 'too_large' });
    expect(
      (await store.mailbox.enqueue(msg('r', 's', 'k', 'a'), 0, m({ recipientBytes: 150 }))).ok,
    ).toBe(true);
    expect(
      await store.mailbox.enqueue(msg('r', 's2', 'k2', 'a2'), 0, m({ recipientBytes: 150 })),
    ).toMatchObject({ reason: 'recipient_full' });
    expect(
      await store.mailbox.enqueue(msg('r', 's', 'k', 'a'), 0, m({ perSender: 1 })),
    ).toMatchObject({ reason: 'sender_quota' });
    expect(
      await store.mailbox.enqueue(msg('r2', 'x', 'k', 'a'), 0, m({ senderBytes: 150 })),
    ).toMatchObject({ reason: 'sender_quota' });
    expect(
      await store.mailbox.enqueue(msg('r3', 'y', 'k9', 'a'), 0, m({ addressBytes: 150 })),
    ).toMatchObject({ reason: 'address_quota' });
    expect(
      (await store.mailbox.enqueue(msg('r3', 'y', 'k9'), 0, m({ addressBytes: 150 }))).ok,
    ).toBe(true);
    expect(await store.mailbox.totalBytes()).toBe(200);
    expect(
      await store.mailbox.enqueue(msg('r4', 'z', 'k8'), 0, m({ totalBytes: 250 })),
    ).toMatchObject({ reason: 'server_full' });
    const rule = { capability: 'mailbox', seenSince: 0 };
    expect(await store.mailbox.enqueue(msg('nobody', 'z', 'k8'), 0, roomy, rule)).toEqual({
      ok: false,
      reason: 'no_mailbox',
    });
    await store.claimName('reg', 'idR', 5, { namesPerIdentity: 5 });
    expect(await store.mailbox.enqueue(msg('reg', 'z', 'k8'), 0, roomy, rule)).toEqual({
      ok: false,
      reason: 'no_mailbox',
    });
    await store.touchBinding('reg', 6, { pub: 'p', pubsig: 's', caps: ['mailbox'] });
    expect((await store.mailbox.enqueue(msg('reg', 'z', 'k8'), 0, roomy, rule)).ok).toBe(true);
  });

  it('gives the same answers as SQLite for a random workload of stores, pages, acks, expiry and drops', async () => {
    const redisStore = node(fresh());
    const sqlite = new SqliteStore(':memory:');
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const quota = {
      ...roomy,
      perRecipient: 12,
      perSender: 5,
      recipientBytes: 2000,
      senderBytes: 3000,
      addressBytes: 2500,
      totalBytes: 6000,
    };
    for (let step = 0; step < 500; step++) {
      const op = rand(12);
      const to = `r${rand(4)}`;
      const both = async <T>(f: (s: RedisStore | SqliteStore) => Promise<T>) => {
        const [x, y] = [await f(redisStore), await f(sqlite)];
        expect(x, `step ${step}`).toEqual(y);
      };
      if (op < 7) {
        const message = {
          recipient: to,
          sender: `s${rand(5)}`,
          senderKey: `k${rand(3)}`,
          ...(rand(2) ? { senderAddress: `a${rand(3)}` } : {}),
          line: line(40 + rand(200)),
        };
        await both(async (s) => {
          const r = await s.mailbox.enqueue(message, step, quota);
          return r.ok ? 'ok' : r.reason;
        });
      } else if (op === 7) await both((s) => s.mailbox.acknowledge(to, rand(400)));
      else if (op === 8) await both((s) => s.mailbox.expire(step - 100));
      else if (op === 9) await both((s) => s.mailbox.dropRecipient(to));
      else
        await both(async (s) =>
          (await s.mailbox.pending(to, rand(100), step - 150, 3)).map((m) => m.line),
        );
      await both((s) => s.mailbox.totalBytes());
    }
  });
});

describe('fetched notices for offline senders (Redis and SQLite alike)', () => {
  const limits = { max: 3, ttlMs: 1000 };
  const both = () =>
    [
      ['redis', node(fresh())],
      ['sqlite', new SqliteStore(':memory:')],
    ] as const;

  it('keeps at most max per sender (the newest), and hands them out once, oldest first', async () => {
    for (const [kind, store] of both()) {
      for (const [i, id] of ['m1', 'm2', 'm3', 'm4', 'm5'].entries())
        await store.mailbox.keepFetched('Bob', id, 100 + i, limits);
      await store.mailbox.keepFetched('carol', 'c1', 100, limits);
      expect(await store.mailbox.takeFetched('BOB', 0), kind).toEqual(['m3', 'm4', 'm5']);
      expect(await store.mailbox.takeFetched('bob', 0), kind).toEqual([]);
      expect(await store.mailbox.takeFetched('carol', 0), kind).toEqual(['c1']);
    }
  });

  it('keeps them for the TTL only, and drops them with the name', async () => {
    for (const [kind, store] of both()) {
      await store.mailbox.keepFetched('bob', 'old', 0, limits);
      await store.mailbox.keepFetched('bob', 'new', 900, limits);
      // Taken after the TTL of the first: only the second is still news.
      expect(await store.mailbox.takeFetched('bob', 500), kind).toEqual(['new']);
      await store.mailbox.keepFetched('bob', 'old', 0, limits);
      await store.mailbox.keepFetched('bob', 'new', 900, limits);
      await store.mailbox.expire(500);
      expect(await store.mailbox.takeFetched('bob', 500), kind).toEqual(['new']);
      await store.mailbox.keepFetched('carol', 'c1', 900, limits);
      await store.mailbox.dropRecipient('Carol');
      expect(await store.mailbox.takeFetched('carol', 0), kind).toEqual([]);
    }
  });
});

describe('RedisStore: rooms and lockout', () => {
  const quota = { maxRooms: 3, roomsPerIdentity: 2 };

  it('creates within quota across nodes, lists by name, keeps roles and bans', async () => {
    const prefix = fresh();
    const [a, b] = [node(prefix), node(prefix)];
    const results = await Promise.all(
      ['#a', '#b', '#c', '#d'].map((room, i) =>
        (i % 2 ? a : b).rooms.create(room, 'idA', 0, undefined, quota),
      ),
    );
    expect(results.filter((r) => r === 'created')).toHaveLength(2);
    expect(await a.rooms.create('#E', 'idB', 0, 'hash', quota)).toBe('created');
    expect(await b.rooms.create('#f', 'idC', 0, undefined, quota)).toBe('server_full');
    const names = (await b.rooms.list(undefined, 10)).map((r) => r.name);
    expect(names).toHaveLength(3);
    expect((await b.rooms.list(names[0], 10)).map((r) => r.name)).toEqual(names.slice(1));
    expect(await b.rooms.get('#e')).toMatchObject({ name: '#E', passwordHash: 'hash', topic: '' });
    await a.rooms.setTopic('#e', 'hello');
    expect((await b.rooms.get('#E'))?.topic).toBe('hello');
    await a.rooms.setRole('#e', 'idX', 'op');
    expect(await b.rooms.getRole('#e', 'idX')).toBe('op');
    await a.rooms.setBan('#e', 'idY', { until: 100, reason: 'r', bannedBy: 'idB', createdAt: 0 });
    expect(await b.rooms.getBan('#e', 'idY', 50)).toMatchObject({ until: 100, reason: 'r' });
    expect(await b.rooms.getBan('#e', 'idY', 100)).toBeUndefined();
    await a.rooms.delete('#e');
    expect(await b.rooms.get('#e')).toBeUndefined();
    expect(await b.rooms.countOwned('idB')).toBe(0);
  });

  it('marks a room empty only when no node has members in it', async () => {
    const prefix = fresh();
    const [a, b] = [node(prefix), node(prefix)];
    await a.rooms.create('#r', 'idA', 0);
    await a.rooms.markEmpty('#r', undefined);
    await b.rooms.markEmpty('#r', undefined);
    await a.rooms.markEmpty('#r', 10);
    expect(await a.rooms.emptySince(100)).toEqual([]);
    await b.rooms.markEmpty('#r', 20);
    expect(await a.rooms.emptySince(100)).toEqual([{ name: '#r', owners: ['idA'] }]);
    await b.rooms.markEmpty('#r', undefined);
    await b.rooms.dropNode(b.rooms.node, 30);
    expect(await a.rooms.emptySince(100)).toEqual([{ name: '#r', owners: ['idA'] }]);
  });

  it('counts password attempts from every node together and locks after the failures', async () => {
    const prefix = fresh();
    const [a, b] = [node(prefix).lockout, node(prefix).lockout];
    const policy = { attempts: 2, windowMs: 60_000, lockMs: 10_000 };
    const reserved = await Promise.all([a, b, a].map((l) => l.reserve('s', '#r', 0, policy)));
    expect(reserved.filter(Boolean)).toHaveLength(2);
    expect(await b.settle('s', '#r', false, 0, policy)).toBe(true);
    expect(await a.lockedFor('s', '#r', 1000, policy)).toBe(9000);
    expect(await b.reserve('s', '#r', 1000, policy)).toBe(false);
    expect(await b.reserve('other', '#r', 1000, policy)).toBe(true);
    expect(await a.reserve('s', '#r', 10_001, policy)).toBe(true);
    expect(await a.settle('s', '#r', true, 10_001, policy)).toBe(false);
  });
});
