import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_POLICY, restartDelay } from '../../../src/cli/serve-workers.js';

/** `serve --workers`: how soon a crashed worker is replaced, and when the primary gives up. */
describe('restartDelay', () => {
  const policy = { perMinute: 3, baseDelayMs: 100, maxDelayMs: 300 };

  it('doubles the delay with each restart of the last minute, up to the cap', () => {
    expect(restartDelay([], 0, policy)).toBe(100);
    expect(restartDelay([0], 1000, policy)).toBe(200);
    expect(restartDelay([0, 1000], 2000, policy)).toBe(300);
  });

  it('refuses past the restarts a minute allows, and allows again once they are a minute old', () => {
    expect(restartDelay([0, 1, 2], 3, policy)).toBeUndefined();
    expect(restartDelay([0, 1, 2], 60_001, policy)).toBe(200);
    expect(restartDelay([0, 1, 2], 60_003, policy)).toBe(100);
  });

  it('by default restarts at most 10 a minute, the first after 100 ms', () => {
    expect(DEFAULT_RESTART_POLICY).toMatchObject({ perMinute: 10, baseDelayMs: 100 });
    expect(restartDelay(Array(10).fill(0), 1, DEFAULT_RESTART_POLICY)).toBeUndefined();
  });
});
