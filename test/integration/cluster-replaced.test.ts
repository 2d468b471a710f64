import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * E_REPLACED across nodes travels on the old session's node stream (acknowledged), not
 * only on the presence channel (issue 17): with that node's subscription killed (CLIENT
 * KILL on the real redis-server, kept from reconnecting by maxclients), the older session
 * is still told it was replaced.
 */
let redis: TestRedis;
let admin: Redis;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  admin = redis.client();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  await admin.config('SET', 'maxclients', '10000');
  for (const c of clients.splice(0)) c.close();
  for (const node of nodes.splice(0)) await node.close();
  await admin.flushall();
});

describe('E_REPLACED across nodes', () => {
  it('reaches the older session even when its node lost its subscription', async () => {
    const a = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    const b = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    nodes.push(a, b);
    const who = newIdentity();
    const first = await RawClient.connect({ port: a.port, certPem: a.certPem });
    clients.push(first);
    first.send(v2Hello(first.socket, 'alice', who));
    await first.next((f) => f.type === 'welcome');
    expect(await until(() => b.server.directory.get('alice') !== undefined)).toBe(true);

    const list = String(await admin.client('LIST'))
      .split('\n')
      .filter((line) => line.trim() !== '');
    const sub = list.find((line) => line.includes(` name=sub:${a.server.cluster!.id} `));
    expect(sub, 'the subscriber connection is named').toBeDefined();
    await admin.config('SET', 'maxclients', String(list.length - 1));
    await admin.client('KILL', 'ID', /(?:^|\s)id=(\d+)/.exec(sub!)![1]!);

    const second = await RawClient.connect({ port: b.port, certPem: b.certPem });
    clients.push(second);
    second.send(v2Hello(second.socket, 'alice', who));
    expect(await second.next((f) => f.type === 'welcome' || f.type === 'error')).toMatchObject({
      type: 'welcome',
    });
    await first.error('E_REPLACED');
    expect(a.logs.events('cluster.resubscribed')).toHaveLength(0); // not via a reload
  });
});
