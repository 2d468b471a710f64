/** Bundle requests (e2ee/bundle-requests.ts): answers matched by id, timeouts on a moved clock. */
import { describe, expect, it } from 'vitest';
import { BundleRequests } from '../../../src/client/e2ee/bundle-requests.js';
import { type BundleFrame, ErrorCode } from '../../../src/protocol/index.js';
import { fakeLink, manualTimers } from './fakes.js';

const answer = (id: string) => ({ type: 'bundle', user: 'bob', id }) as unknown as BundleFrame;

describe('bundle requests', () => {
  it('resolves the request an answer names, and ignores answers nobody asked for', async () => {
    const link = fakeLink();
    const time = manualTimers();
    const requests = new BundleRequests((f) => link.send(f), time.timers, 10_000);
    const pending = requests.request('bob');
    expect(link.sent).toEqual([{ type: 'bundle', user: 'bob', id: 'bundle-1' }]);
    expect(requests.resolve(answer('bundle-9'))).toBe(false);
    expect(requests.resolve(answer('bundle-1'))).toBe(true);
    await expect(pending).resolves.toMatchObject({ id: 'bundle-1' });
    expect(time.pending).toBe(0); // its timeout was cancelled
  });

  it('gives up after the timeout, not before, and a late answer changes nothing', async () => {
    const time = manualTimers();
    const requests = new BundleRequests(() => true, time.timers, 10_000);
    let outcome: unknown;
    requests.request('bob').then(
      (v) => {
        outcome = v;
      },
      (e: { code: string; message: string }) => {
        outcome = e;
      },
    );
    time.advance(9_999);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    time.advance(1);
    await Promise.resolve();
    expect(outcome).toMatchObject({
      code: ErrorCode.PEER_OFFLINE,
      message: "no answer for bob's keys",
    });
    expect(requests.resolve(answer('bundle-1'))).toBe(false);
  });

  it('fails at once when not connected, and fails every open request when the link drops', async () => {
    const time = manualTimers();
    const offline = new BundleRequests(() => false, time.timers);
    await expect(offline.request('bob')).rejects.toMatchObject({ code: ErrorCode.PEER_OFFLINE });
    const requests = new BundleRequests(() => true, time.timers);
    const a = requests.request('bob');
    const b = requests.request('carol');
    requests.failAll('connection lost');
    await expect(a).rejects.toThrow('connection lost');
    await expect(b).rejects.toThrow('connection lost');
    expect(time.pending).toBe(0);
  });

  it('passes on the server refusal a request was answered with', async () => {
    const requests = new BundleRequests(() => true, manualTimers().timers);
    const pending = requests.request('nobody');
    expect(requests.reject('bundle-1', ErrorCode.NO_BUNDLE, 'no such user')).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.NO_BUNDLE });
    expect(requests.reject('bundle-1', ErrorCode.NO_BUNDLE, 'again')).toBe(false);
  });
});
