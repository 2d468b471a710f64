import { describe, expect, it } from 'vitest';
import { addressKey } from '../../../src/server/limits/address-key.js';
import { KeyedBuckets, WindowCounter } from '../../../src/server/limits/window-counter.js';

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::1', '0:0:0:0::/64'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::ff', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:aaaa::', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['127.0.0.1', '127.0.0.1'],
    ['?', '?'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('puts every address of one /64 under one key, and another /64 apart', () => {
    const a = addressKey('2001:db8:aa:bb:1::1');
    expect(addressKey('2001:db8:aa:bb:ffff:ffff:ffff:ffff')).toBe(a);
    expect(addressKey('2001:db8:aa:bc::1')).not.toBe(a);
  });
});

describe('WindowCounter and KeyedBuckets', () => {
  it('counts events per key within the window and forgets them after it', () => {
    const counter = new WindowCounter(1000);
    expect(counter.tryAdd('a', 2, 0)).toBe(true);
    expect(counter.tryAdd('a', 2, 500)).toBe(true);
    expect(counter.tryAdd('a', 2, 900)).toBe(false);
    expect(counter.tryAdd('b', 2, 900)).toBe(true);
    expect(counter.count('a', 999)).toBe(2);
    expect(counter.count('a', 1000)).toBe(1);
    expect(counter.tryAdd('a', 2, 1000)).toBe(true);
  });

  it('stays bounded in keys', () => {
    const counter = new WindowCounter(1000, 10);
    for (let i = 0; i < 1000; i++) counter.tryAdd(`k${i}`, 5, 0);
    expect(counter.count('k999', 0)).toBe(1);
    expect(counter.count('k0', 0)).toBe(0); // forgotten to keep memory bounded
  });

  it('gives each key its own bucket', () => {
    const buckets = new KeyedBuckets(1, 2);
    expect(buckets.take('x', 0)).toBe(true);
    expect(buckets.take('x', 0)).toBe(true);
    expect(buckets.take('x', 0)).toBe(false);
    expect(buckets.take('y', 0)).toBe(true);
    expect(buckets.take('x', 1000)).toBe(true);
  });
});
