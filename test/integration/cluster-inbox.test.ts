import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../src/cli/embedded-redis.js';
import { EncodedRelay, ErrorCode, type RelayFrame } from '../../src/protocol/index.js';
import {
  ClusterInbox,
  type LocalRouter,
  TRIM_EVERY,
} from '../../src/server/cluster/cluster-inbox.js';
import { relayCorrs } from '../../src/server/cluster/inbox-codec.js';
import { Outbox } from '../../src/server/cluster/outbox.js';
import { createLogger } from '../../src/server/logger.js';
import type { Answered, RouteOutcome } from '../../src/server/router.js';
import { RedisKeys } from '../../src/server/store/redis/scripts.js';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { LogSink } from '../helpers/log-sink.js';
import { until } from '../helpers/until.js';

/**
 * The node-to-node streams themselves (issue 17), on a real redis-server: two inboxes `x`
 * and `y` with routers of the test's own. Answers that take a store round trip on the
 * receiving node come back in order with the others; handled entries are acknowledged in
 * batches, and always before a re-read of what is pending (a reader that lost its connection
 * delivers nothing twice); entries are trimmed; while an entry to a node is on its way, the
 * next relays to it gather into one entry (at most one XADD per target node in flight).
 */
const fixture = clusterFixture();
let admin: Redis;
const connections: Redis[] = [];
beforeAll(() => {
  admin = fixture.redis.client();
});
afterEach(async () => {
  await admin.config('SET', 'maxclients', '10000');
  await admin.client('UNPAUSE');
  for (const client of connections.splice(0)) client.disconnect();
});

/** Warnings of the inboxes. */
const warnings = new LogSink();
const logger = createLogger({ level: 'warn', destination: warnings });
const connect = (name?: string) => {
  const client = new Redis(fixture.redis.url, {
    maxRetriesPerRequest: 1,
    ...(name ? { connectionName: name } : {}),
  });
  connections.push(client);
  return client;
};
const from = { name: 'alice', identityKey: undefined, addressKey: '127.0.0.1' };
const frame = (to: string) =>
  new EncodedRelay({
    type: 'relay',
    to,
    alg: 'X25519+AESGCM',
    nonce: Buffer.alloc(12, 7).toString('base64'),
    cipher: Buffer.alloc(40, 9).toString('base64'),
  } as RelayFrame);
type Answers = Array<[string, RouteOutcome]>;
const collect: Answered<Answers> = (list, relay, outcome) => list.push([relay.to, outcome]);

/** Inboxes `x` and `y` on fresh keys; `y` delivers with `router`, its reader named `reader:y`. */
async function pair(router: LocalRouter) {
  const keys = new RedisKeys(`t${Date.now()}${Math.random().toString(36).slice(2, 6)}`);
  const inbox = (node: string) =>
    new ClusterInbox({
      redis: connect(),
      reader: connect(`reader:${node}`),
      keys,
      node,
      logger,
      timeoutMs: 5000,
    });
  const x = inbox('x');
  const y = inbox('y');
  x.attach({ routeLocalLine: () => ({ kind: 'delivered' }) }, () => {});
  y.attach(router, () => {});
  for (const box of [x, y]) {
    await box.prepare();
    box.start();
  }
  return { x, y, stop: () => Promise.all([x.stop(), y.stop()]) };
}

describe('cluster inbox streams', () => {
  it('answers relays whose delivery waits on the store in order with the others', async () => {
    // On y: "slow" is stored after a store round trip, "broken" fails in the store, the
    // rest are delivered at once.
    const { x, y, stop } = await pair({
      routeLocalLine(_from, to) {
        if (to === 'slow')
          return new Promise<RouteOutcome>((resolve) =>
            setTimeout(() => resolve({ kind: 'stored', seq: 7 }), 20),
          );
        if (to === 'broken') return Promise.reject(new Error('store down'));
        return { kind: 'delivered' };
      },
    });
    try {
      const answers: Answers = [];
      // One event-loop turn: one stream entry, read by y in one batch.
      for (const to of ['slow', 'fast', 'broken', 'fast'])
        x.forward('y', from, frame(to), collect, answers);
      expect(await until(() => answers.length === 4, 5000)).toBe(true);
      expect(answers.map(([to, outcome]) => [to, outcome.kind])).toEqual([
        ['slow', 'stored'],
        ['fast', 'delivered'],
        ['broken', 'failed'],
        ['fast', 'delivered'],
      ]);
      expect(answers[0]?.[1]).toEqual({ kind: 'stored', seq: 7 });
      expect(answers[2]?.[1]).toMatchObject({
        code: ErrorCode.BUSY,
        reason: 'cluster_unavailable',
      });
      expect(x.figures).toMatchObject({ forwarded: 4, replies: 4, timedOut: 0 });
      // Handled entries are acknowledged and trimmed away (every TRIM_EVERY of them), not
      // kept: each relay waits for its answer, so each is an entry of its own.
      const turns = TRIM_EVERY + 44;
      for (let i = 0; i < turns; i++)
        await new Promise<void>((resolve) =>
          x.forward('y', from, frame('fast'), (done: () => void) => done(), resolve),
        );
      const info = (await admin.xinfo('STREAM', y.stream('y'))) as unknown[];
      const added = Number(info[info.indexOf('entries-added') + 1]);
      expect(added).toBeGreaterThan(turns);
      expect(await admin.xlen(y.stream('y'))).toBeLessThan(turns);
      const [pending] = (await admin.xpending(y.stream('y'), 'node')) as [number];
      expect(pending).toBeLessThan(TRIM_EVERY);
    } finally {
      await stop();
    }
  });

  it('acknowledges what it handled before re-reading what is pending: nothing delivered twice', async () => {
    const delivered: string[] = [];
    const { x, y, stop } = await pair({
      routeLocalLine(_from, _to, line) {
        delivered.push(line);
        return { kind: 'delivered' };
      },
    });
    try {
      const answers: Answers = [];
      const first = 10;
      for (let i = 0; i < first; i++) {
        x.forward('y', from, frame(`u${i}`), collect, answers);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(await until(() => answers.length === first)).toBe(true);
      // Handled, not acknowledged yet (fewer than TRIM_EVERY).
      const [pending] = (await admin.xpending(y.stream('y'), 'node')) as [number];
      expect(pending).toBeGreaterThan(0);
      // y's reader loses its connection and cannot get it back at once: its read fails, so
      // it reads what is pending (from 0) once Redis takes it back.
      const list = String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.trim() !== '');
      const reader = list.find((line) => line.includes(' name=reader:y '));
      expect(reader).toBeDefined();
      await admin.config('SET', 'maxclients', String(list.length - 1));
      await admin.client('KILL', 'ID', /(?:^|\s)id=(\d+)/.exec(reader!)![1]!);
      const failedReads = () => warnings.events('cluster.inbox_error').length;
      const before = failedReads();
      expect(await until(() => failedReads() > before, 10_000)).toBe(true);
      await admin.config('SET', 'maxclients', '10000');
      // A relay after the reconnect: delivered once, and the first ones were not again.
      x.forward('y', from, frame('after'), collect, answers);
      expect(await until(() => answers.length === first + 1, 10_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(delivered).toHaveLength(first + 1);
      expect(new Set(delivered).size).toBe(first + 1);
      const [left] = (await admin.xpending(y.stream('y'), 'node')) as [number];
      expect(left).toBeLessThanOrEqual(1); // the first ones were acknowledged
    } finally {
      await stop();
    }
  });

  it('gathers relays into one entry while the entry before it to that node is on its way', async () => {
    const keys = new RedisKeys(`t${Date.now()}`);
    const failed: string[] = [];
    const outbox = new Outbox({
      redis: connect(),
      origin: 'x',
      stream: (node) => keys.key('inbox', node),
      failed: (batch) => failed.push(batch),
    });
    // Writes wait in Redis: the first XADD is on its way while the next relays come.
    await admin.client('PAUSE', '10000', 'WRITE');
    outbox.parts('y').push('1\ta\n');
    await new Promise((resolve) => setImmediate(resolve));
    for (const item of ['2\tb\n', '3\tc\n', '4\td\n']) {
      outbox.parts('y').push(item);
      await new Promise((resolve) => setImmediate(resolve));
    }
    outbox.parts('z').push('5\te\n'); // another node is not held up by y's
    await admin.client('UNPAUSE');
    const stream = keys.key('inbox', 'y');
    const read = async (key: string) =>
      ((await admin.xrange(key, '-', '+')) as Array<[string, string[]]>).map(
        ([, fields]) => fields[fields.length - 1],
      );
    let entries: string[] = [];
    for (let i = 0; i < 100 && entries.length < 2; i++) {
      entries = (await read(stream)) as string[];
      if (entries.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(entries).toEqual(['1\ta\n', '2\tb\n3\tc\n4\td\n']);
    expect(await read(keys.key('inbox', 'z'))).toEqual(['5\te\n']);
    expect(failed).toEqual([]);
    // (what /metrics shows as stream entries sent: five relays in three entries)
    expect(outbox.entries).toBe(3);
  });

  it('reports the relays of an entry that could not be added, and goes on with the next', async () => {
    // Nothing listens there, and the client does not retry: every XADD fails.
    const redis = new Redis(await freeLoopbackPort(), '127.0.0.1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    const failed: string[] = [];
    const outbox = new Outbox({
      redis,
      origin: 'x',
      stream: (node) => `t:${node}`,
      failed: (batch) => failed.push(batch),
    });
    outbox.parts('y').push('1\ta\n', '2\tb\n');
    expect(await until(() => failed.length === 1)).toBe(true);
    outbox.parts('y').push('3\tc\n');
    expect(await until(() => failed.length === 2)).toBe(true);
    expect(failed).toEqual(['1\ta\n2\tb\n', '3\tc\n']);
    expect(failed.flatMap(relayCorrs)).toEqual([1, 2, 3]);
    redis.disconnect();
  });
});
