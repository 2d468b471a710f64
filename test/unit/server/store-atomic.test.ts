import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/server/store/index.js';

/**
 * The store's check-then-change methods, each called directly: claim a name, take a
 * one-time prekey, reserve a password attempt, create a room within quota. (Enqueue within
 * quota: mailbox-store.test.ts; the same methods under a delayed store: store-races.test.ts.)
 */

describe('ServerStore.claimName', () => {
  const limits = { namesPerIdentity: 2 };

  it('binds a free name, grants it again to its holder, refuses another identity', async () => {
    const store = new SqliteStore(':memory:');
    const first = await store.claimName('Alice', 'idA', 10, limits);
    expect(first).toMatchObject({ ok: true, created: true, binding: { identityKey: 'idA' } });
    expect(await store.claimName('alice', 'idA', 20, limits)).toMatchObject({
      ok: true,
      created: false,
    });
    expect(await store.claimName('ALICE', 'idB', 30, limits)).toMatchObject({
      ok: false,
      reason: 'bound',
      binding: { identityKey: 'idA' },
    });
    expect(await store.countBindings('idA')).toBe(1);
  });

  it('refuses a new name past the cap but always grants a name already held', async () => {
    const store = new SqliteStore(':memory:');
    await store.claimName('a1', 'idA', 0, limits);
    await store.claimName('a2', 'idA', 0, limits);
    expect(await store.claimName('a3', 'idA', 0, limits)).toEqual({
      ok: false,
      reason: 'identity_cap',
    });
    expect((await store.claimName('a2', 'idA', 0, limits)).ok).toBe(true);
    expect(await store.getBinding('a3')).toBeUndefined();
  });

  it('of concurrent claims of one name, exactly one identity gets it', async () => {
    const store = new SqliteStore(':memory:');
    const claims = await Promise.all(
      ['idA', 'idB', 'idC'].map((id) => store.claimName('bob', id, 0, limits)),
    );
    expect(claims.filter((c) => c.ok && c.created)).toHaveLength(1);
    expect(claims.filter((c) => !c.ok && c.reason === 'bound')).toHaveLength(2);
  });
});

describe('ServerStore.takePrekey', () => {
  it('hands each one-time prekey out once and says how many are left', async () => {
    const store = new SqliteStore(':memory:');
    const keys = [1, 2, 3].map((id) => ({ id, pub: `pub${id}` }));
    expect(await store.addPrekeys('alice', keys, 10, 0)).toBe(3);
    const takes = await Promise.all([1, 2, 3, 4].map(() => store.takePrekey('ALICE')));
    const ids = takes.flatMap((t) => (t.prekey ? [t.prekey.id] : []));
    expect(ids.sort()).toEqual([1, 2, 3]);
    expect(takes.map((t) => t.left).sort()).toEqual([0, 0, 1, 2]);
    expect(takes.filter((t) => t.prekey === undefined)).toHaveLength(1);
    expect(await store.countPrekeys('alice')).toBe(0);
  });
});

describe('ServerStore.takeKemPrekey (PQXDH)', () => {
  it('hands each one-time KEM prekey out once, says how many are left, and keeps the cap', async () => {
    const store = new SqliteStore(':memory:');
    const keys = [1, 2, 3].map((id) => ({ id, created: id, pub: `pub${id}`, sig: `sig${id}` }));
    expect(await store.addKemPrekeys('alice', keys, 10, 0)).toBe(3);
    expect(await store.addKemPrekeys('alice', [{ ...keys[0]!, id: 9 }], 3, 0)).toBe(3);
    const takes = await Promise.all([1, 2, 3, 4].map(() => store.takeKemPrekey('ALICE')));
    const ids = takes.flatMap((t) => (t.prekey ? [t.prekey.id] : []));
    expect(ids.sort()).toEqual([1, 2, 3]);
    expect(takes.map((t) => t.left).sort()).toEqual([0, 0, 1, 2]);
    expect(takes[0]!.prekey).toEqual(keys[0]);
    expect(await store.countKemPrekeys('alice')).toBe(0);
    await store.addKemPrekeys('alice', keys, 10, 1);
    expect(await store.addKemPrekeys('alice', [], 10, 2, true)).toBe(0);
  });
});

describe('LockoutStore.reserve/settle (MemoryLockout)', () => {
  const policy = { attempts: 2, windowMs: 60_000, lockMs: 10_000 };

  it('a right password refunds the reserved attempts', async () => {
    const { lockout } = new SqliteStore(':memory:');
    expect(await lockout.reserve('s', '#r', 0, policy)).toBe(true);
    expect(await lockout.settle('s', '#r', true, 0, policy)).toBe(false);
    expect(await lockout.reserve('s', '#r', 0, policy)).toBe(true);
    expect(await lockout.reserve('s', '#r', 0, policy)).toBe(true);
  });

  it('counts attempts before they are checked and locks after the failures', async () => {
    const { lockout } = new SqliteStore(':memory:');
    const reserved = await Promise.all([1, 2, 3].map(() => lockout.reserve('s', '#r', 0, policy)));
    expect(reserved).toEqual([true, true, false]); // two in flight: no third
    // both reservations count as failures until settled: the first wrong password locks
    expect(await lockout.settle('s', '#r', false, 0, policy)).toBe(true);
    expect(await lockout.lockedFor('s', '#r', 1000, policy)).toBe(9000);
    expect(await lockout.reserve('s', '#r', 1000, policy)).toBe(false);
    expect(await lockout.reserve('other', '#r', 1000, policy)).toBe(true);
    expect(await lockout.reserve('s', '#r', 10_001, policy)).toBe(true);
  });
});

describe('RoomStore.create within quota', () => {
  const quota = { maxRooms: 3, roomsPerIdentity: 2 };

  it('refuses past the owner cap and the server cap, and reports a room that exists', async () => {
    const store = new SqliteStore(':memory:');
    expect(await store.rooms.create('#a', 'idA', 0, undefined, quota)).toBe('created');
    expect(await store.rooms.create('#a', 'idB', 0, undefined, quota)).toBe('exists');
    expect(await store.rooms.create('#b', 'idA', 0, undefined, quota)).toBe('created');
    expect(await store.rooms.create('#c', 'idA', 0, undefined, quota)).toBe('owner_full');
    expect(await store.rooms.create('#c', 'idB', 0, undefined, quota)).toBe('created');
    expect(await store.rooms.create('#d', 'idC', 0, undefined, quota)).toBe('server_full');
    expect(await store.rooms.count()).toBe(3);
    expect(await store.rooms.countOwned('idA')).toBe(2);
  });

  it('of concurrent creations by one owner, only the quota is granted', async () => {
    const store = new SqliteStore(':memory:');
    const results = await Promise.all(
      ['#a', '#b', '#c', '#d'].map((room) => store.rooms.create(room, 'idA', 0, undefined, quota)),
    );
    expect(results.filter((r) => r === 'created')).toHaveLength(2);
    expect(results.filter((r) => r === 'owner_full')).toHaveLength(2);
  });
});
