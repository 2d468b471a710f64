import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Redis stopped under a cluster (issue 17): the connection caps fall back to each node's
 * own limits (never refusing for being unable to ask), and when Redis is back each node
 * puts in what it holds, so the cluster-wide counts are right again.
 */
let redis: TestRedis;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const node of nodes.splice(0)) await node.close();
  await redis?.close();
});

async function open(to: TestServer, localAddress = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect({ port: to.port, certPem: to.certPem, localAddress });
  clients.push(c);
  return c;
}

async function settles(check: () => Promise<boolean>, tries = 500): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('connection caps while Redis is unreachable', () => {
  it("admits on the node's own limits, then puts the counts right when Redis is back", async () => {
    for (let i = 0; i < 2; i++)
      nodes.push(
        await startTestServer({
          redis: redis.url,
          clusterHeartbeatMs: 300,
          maxConnectionsPerIp: 2,
        }),
      );
    const [a, b] = nodes as [TestServer, TestServer];
    const gone = await open(a);
    await redis.stop();
    expect(await settles(async () => a.server.cluster!.redis.status !== 'ready')).toBe(true);

    // Node a alone: its own per-address cap is the floor.
    gone.close();
    await open(a);
    await open(a);
    await expect(RawClient.connect({ port: a.port, certPem: a.certPem })).rejects.toThrow();
    expect(a.server.stats.connectionsRefused.get('per_ip_cap')).toBe(1);
    expect(a.logs.events('cluster.limits_local').length).toBeGreaterThan(0);

    await redis.restart();
    const check = redis.client();
    // Redis kept (AOF) the slot of the connection that closed meanwhile; node a replaces
    // what it held with the two it holds now.
    const resynced = await settles(
      async () => (await check.hget('securechat:conns', 'a:127.0.0.1')) === '2',
    );
    expect(resynced, 'counts put right after the reconnect').toBe(true);
    await expect(RawClient.connect({ port: b.port, certPem: b.certPem })).rejects.toThrow();
    expect(b.server.stats.connectionsRefused.get('per_ip_cap')).toBe(1);
    await open(b, '127.0.0.2');
  });
});
