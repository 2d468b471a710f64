import { describe, expect, it } from 'vitest';
import { addressKey } from '../../../src/server/limits/address-key.js';
import { NameQuota } from '../../../src/server/name-quota.js';
import { PasswordLockout } from '../../../src/server/rooms/lockout.js';
import { SqliteStore } from '../../../src/server/store/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('NameQuota', () => {
  const limits = {
    namesPerIdentity: 2,
    newNamesPerIdentity: 3,
    newNamesPerAddress: 4,
    newNamesPerHour: 6,
  };

  it('caps the names an identity holds and takes per day', async () => {
    const store = new SqliteStore(':memory:');
    const names = new NameQuota(store, limits);
    for (const name of ['a1', 'a2']) {
      expect(await names.checkBinding('idA', '10.0.0.1', 0)).toBeUndefined();
      await store.claimName(name, 'idA', 0, limits);
      names.recordBinding('idA', '10.0.0.1', 0);
    }
    expect((await names.checkBinding('idA', '10.0.0.1', 0))?.reason).toBe('identity_cap');
    expect(await names.checkBinding('idB', '10.0.0.2', 0)).toBeUndefined();
  });

  it('counts a v1 name once per address and day, and v1 names against the address', async () => {
    const names = new NameQuota(new SqliteStore(':memory:'), limits);
    for (let i = 0; i < 4; i++) expect(names.takeV1(`v${i}`, '10.0.0.1', 0)).toBeUndefined();
    expect(names.takeV1('v0', '10.0.0.1', HOUR)).toBeUndefined(); // returning, not new
    expect(names.takeV1('v9', '10.0.0.1', HOUR)?.reason).toBe('address_rate');
    expect((await names.checkBinding('idC', '10.0.0.1', HOUR))?.reason).toBe('address_rate');
    expect(names.takeV1('v9', '10.0.0.1', DAY + 1)).toBeUndefined(); // a day later
  });

  it('shared addresses are not keyed; everyone together is capped per hour', () => {
    const names = new NameQuota(new SqliteStore(':memory:'), limits);
    for (let i = 0; i < 6; i++) expect(names.takeV1(`s${i}`, undefined, 0)).toBeUndefined();
    expect(names.takeV1('s6', undefined, 0)?.reason).toBe('server_rate');
    expect(names.takeV1('s6', undefined, HOUR)).toBeUndefined();
  });
});

describe('PasswordLockout', () => {
  it('reserves attempts before they are checked and refunds a right password', () => {
    const lockout = new PasswordLockout({ attempts: 3, windowMs: 10_000, lockMs: 5000 });
    expect(lockout.reserve('s', '#r', 0)).toBe(true);
    expect(lockout.reserve('s', '#r', 0)).toBe(true);
    expect(lockout.reserve('s', '#r', 0)).toBe(true);
    expect(lockout.reserve('s', '#r', 0)).toBe(false); // three in flight: no fourth
    expect(lockout.settle('s', '#r', false, 0)).toBe(true); // the third failure locks
    expect(lockout.lockedFor('s', '#r', 1000)).toBe(4000);
    expect(lockout.reserve('s', '#r', 1000)).toBe(false);
    expect(lockout.lockedFor('s', '#r', 5000)).toBe(0);
    expect(lockout.reserve('s', '#r', 5000)).toBe(true);
    lockout.settle('s', '#r', true, 5000);
    for (let i = 0; i < 3; i++) expect(lockout.reserve('s', '#r', 5000)).toBe(true);
  });

  it('keys IPv6 clients by /64: a new address in the same /64 is the same source', () => {
    const lockout = new PasswordLockout({ attempts: 2, windowMs: 10_000, lockMs: 5000 });
    for (const address of ['2001:db8:1:1::a', '2001:db8:1:1::b']) {
      expect(lockout.reserve(addressKey(address), '#r', 0)).toBe(true);
      lockout.settle(addressKey(address), '#r', false, 0);
    }
    expect(lockout.lockedFor(addressKey('2001:db8:1:1::c'), '#r', 0)).toBeGreaterThan(0);
    expect(lockout.lockedFor(addressKey('2001:db8:1:2::a'), '#r', 0)).toBe(0);
  });
});
