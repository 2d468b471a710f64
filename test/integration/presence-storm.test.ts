import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient, randomPub } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * Hostile users churning connections (as many names and connections as the limits allow)
 * against a v1 watcher: every join and leave changes the `users` map, which goes whole to
 * every v1 client. Pacing bounds what the churn costs each watcher, and the map it ends
 * with is the current one.
 */
describe('a storm of v1 connects and closes, watched by a v1 client', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const hello = async (user: string, pub?: string) => {
    const client = await RawClient.hello({
      port: t.port,
      certPem: t.certPem,
      user,
      ...(pub ? { pub } : {}),
    });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('costs the watcher at most one users frame per 50 ms quiet period, and the last frame is the current map', async () => {
    const alicePub = randomPub();
    const alice = await hello('alice', alicePub);
    await alice.sync();
    alice.frames.splice(0);
    const started = Date.now();
    for (let round = 0; round < 3; round++) {
      const storm = await Promise.all(
        Array.from({ length: 10 }, (_, i) => hello(`s${round}x${i}`)),
      );
      for (const client of storm) client.close();
    }
    const zedPub = randomPub();
    await hello('zed', zedPub);
    // nothing is lost by waiting: the map settles on who is really online
    const settled = await until(() => {
      const users = alice.frames.findLast((f) => f.type === 'users')?.users as
        | Record<string, string>
        | undefined;
      return (
        users !== undefined &&
        Object.keys(users).length === 2 &&
        users.alice === alicePub &&
        users.zed === zedPub
      );
    }, 10_000);
    expect(settled).toBe(true);
    const elapsed = Date.now() - started;
    const pushes = alice.frames.filter((f) => f.type === 'users').length;
    // 61 changes (30 joins, 30 leaves, zed); unpaced, about one frame each
    expect(pushes).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
  });

  it('a v2 presence watcher of the storm gets paced deltas, never its own, each member’s join and leave both or neither: applied in order they give the current directory', async () => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(client);
    client.send(v2Hello(client.socket, 'watcher', newIdentity(), ['presence']));
    const welcome = await client.next((f) => f.type === 'welcome');
    const known = new Set(Object.keys(welcome.peers as Record<string, unknown>));
    client.frames.splice(0);
    const names: string[] = [];
    for (let round = 0; round < 3; round++) {
      const storm = await Promise.all(
        Array.from({ length: 10 }, (_, i) => hello(`v${round}x${i}`)),
      );
      names.push(...storm.map((_, i) => `v${round}x${i}`));
      for (const c of storm) c.close();
    }
    const last = await hello('zed');
    const deltas = () => client.frames.filter((f) => f.type === 'presence');
    const applied = () => {
      const now = new Set(known);
      for (const f of deltas()) {
        if (f.event === 'join') now.add(f.user as string);
        else now.delete(f.user as string);
      }
      return [...now].sort().join(',');
    };
    // applied in order, the deltas end on who is really online
    expect(await until(() => applied() === 'watcher,zed', 10_000)).toBe(true);
    // a storm member's join and leave came both, in order, or neither (undone in one period)
    for (const name of names) {
      const events = deltas()
        .filter((f) => f.user === name)
        .map((f) => f.event)
        .join(',');
      expect(['', 'join,leave']).toContain(events);
    }
    expect(deltas().some((f) => f.user === 'watcher')).toBe(false); // never its own
    last.close();
  });
});
