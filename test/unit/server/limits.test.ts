import { describe, expect, it } from 'vitest';
import { ConnectionLimiter } from '../../../src/server/limits/connection-limiter.js';
import { TokenBucket } from '../../../src/server/limits/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(1, 0)).toBe(true);
    expect(bucket.take(1, 0)).toBe(false);
    expect(bucket.take(1, 99)).toBe(false);
    expect(bucket.take(1, 100)).toBe(true);
    expect(bucket.available(10_000)).toBe(5);
  });

  it('charges by cost (bytes)', () => {
    const bucket = new TokenBucket(1000, 1000, 0);
    expect(bucket.take(800, 0)).toBe(true);
    expect(bucket.take(300, 0)).toBe(false);
    expect(bucket.take(300, 100)).toBe(true);
  });
});

describe('ConnectionLimiter', () => {
  const limits = { maxConnections: 4, maxPerIp: 2, penaltyMs: 1000, strikes: 3 };

  it('caps per address and globally, and frees slots on close', () => {
    const limiter = new ConnectionLimiter(limits);
    expect(limiter.tryOpen('1.1.1.1', 0)).toBeUndefined();
    expect(limiter.tryOpen('1.1.1.1', 0)).toBeUndefined();
    expect(limiter.tryOpen('1.1.1.1', 0)).toBe('per_ip_cap');
    expect(limiter.tryOpen('2.2.2.2', 0)).toBeUndefined();
    expect(limiter.tryOpen('3.3.3.3', 0)).toBeUndefined();
    expect(limiter.tryOpen('4.4.4.4', 0)).toBe('global_cap');
    limiter.close('1.1.1.1');
    expect(limiter.open).toBe(3);
    expect(limiter.tryOpen('1.1.1.1', 0)).toBeUndefined();
    limiter.close('9.9.9.9'); // unknown: ignored
    expect(limiter.open).toBe(4);
  });

  it('puts repeat offenders in the penalty box, which expires', () => {
    const limiter = new ConnectionLimiter(limits);
    expect(limiter.strike('5.5.5.5', 0)).toBe(false);
    expect(limiter.strike('5.5.5.5', 10)).toBe(false);
    expect(limiter.strike('5.5.5.5', 20)).toBe(true);
    expect(limiter.tryOpen('5.5.5.5', 500)).toBe('penalized');
    expect(limiter.tryOpen('6.6.6.6', 500)).toBeUndefined();
    expect(limiter.tryOpen('5.5.5.5', 1021)).toBeUndefined();
  });

  it('forgets strikes older than the window', () => {
    const limiter = new ConnectionLimiter(limits);
    limiter.strike('7.7.7.7', 0);
    limiter.strike('7.7.7.7', 10);
    expect(limiter.strike('7.7.7.7', 2000)).toBe(false);
  });
});
