import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/protocol/index.js';
import type { ServerConfig } from '../../src/server/config.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * The connection caps of the hostile-peers issue hold for the whole cluster (issue 17):
 * per-address counts and the global cap count every node's connections in Redis, a node
 * that dies gives its slots back when it is reaped, and a penalty reaches nodes that
 * started after it was given.
 */
let redis: TestRedis;
let client: Redis;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
});
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const node of nodes.splice(0)) await node.close();
  await client.flushall();
});

async function node(overrides: Partial<ServerConfig>): Promise<TestServer> {
  const started = await startTestServer({
    redis: redis.url,
    clusterHeartbeatMs: 300,
    ...overrides,
  });
  nodes.push(started);
  return started;
}

async function open(to: TestServer, localAddress = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect({ port: to.port, certPem: to.certPem, localAddress });
  clients.push(c);
  return c;
}

/** Resolves with the refusal `to` counted for a connection that must not get through. */
async function refused(to: TestServer, localAddress = '127.0.0.1'): Promise<string> {
  const before = new Map(to.server.stats.connectionsRefused.values);
  await expect(
    RawClient.connect({ port: to.port, certPem: to.certPem, localAddress }),
  ).rejects.toThrow();
  const reasons = [...to.server.stats.connectionsRefused.values]
    .filter(([reason, n]) => n > (before.get(reason) ?? 0))
    .map(([reason]) => reason);
  return reasons.join(',');
}

const held = async (address: string) =>
  Number((await client.hget('securechat:conns', `a:${address}`)) ?? 0);

/** Polls an async condition every 20 ms for at most 5 s (bounded). */
async function settles(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('connection caps across the cluster', () => {
  it('counts one address on every node (per-address cap), and gives a slot back on close', async () => {
    const a = await node({ maxConnectionsPerIp: 2 });
    const b = await node({ maxConnectionsPerIp: 2 });
    const first = await open(a);
    await open(b);
    expect(await refused(a)).toBe('per_ip_cap');
    expect(await refused(b)).toBe('per_ip_cap');
    await open(b, '127.0.0.2'); // another address is not affected
    first.close();
    expect(await settles(async () => (await held('127.0.0.1')) === 1)).toBe(true);
    await open(b);
  });

  it('holds the global cap over all nodes', async () => {
    const a = await node({ maxConnections: 3 });
    const b = await node({ maxConnections: 3 });
    await open(a, '127.0.0.2');
    await open(b, '127.0.0.3');
    await open(a, '127.0.0.4');
    expect(await refused(b, '127.0.0.5')).toBe('global_cap');
    expect(await refused(a, '127.0.0.6')).toBe('global_cap');
  });

  it('puts the shared counts right at every heartbeat, not only after a reconnect', async () => {
    const a = await node({ maxConnectionsPerIp: 3, clusterHeartbeatMs: 60_000 }); // beats by hand
    await open(a);
    await open(a);
    expect(await settles(async () => (await held('127.0.0.1')) === 2)).toBe(true);
    // One low, as after a close counted twice around an outage (the node still holds two).
    const share = `securechat:conns:${a.server.cluster!.id}`;
    await client.hincrby('securechat:conns', 'a:127.0.0.1', -1);
    await client.hincrby(share, 'a:127.0.0.1', -1);
    expect(await held('127.0.0.1')).toBe(1);
    await a.server.cluster!.beat();
    expect(await held('127.0.0.1')).toBe(2);
    expect(Number(await client.hget(share, 'a:127.0.0.1'))).toBe(2);
  });

  it('gives back the slots of a node that died once it is reaped', async () => {
    const a = await node({ maxConnectionsPerIp: 2 });
    const b = await node({ maxConnectionsPerIp: 2 });
    await open(a);
    await open(a);
    expect(await refused(b)).toBe('per_ip_cap');
    a.server.cluster!.freeze(); // stops beating, as a killed process would
    const reclaimed = await settles(async () => {
      await b.server.cluster!.beat();
      return (await held('127.0.0.1')) === 0;
    });
    expect(reclaimed, 'the dead node’s slots are given back').toBe(true);
    await open(b);
    await open(b);
    expect(await refused(b)).toBe('per_ip_cap');
  });

  it('refuses a penalized address on a node that started after the penalty was given', async () => {
    const a = await node({});
    a.server.cluster!.strike('127.0.0.7', Date.now(), 1, 60_000);
    expect(
      await settles(async () => (await client.exists('securechat:penalized:127.0.0.7')) === 1),
    ).toBe(true);
    const late = await node({});
    expect(await refused(late, '127.0.0.7')).toBe('penalized');
    await open(late, '127.0.0.8');
  });

  it('refuses a penalized identity at its hello on a node that started after the penalty', async () => {
    const a = await node({});
    const who = newIdentity();
    const idk = toBase64(who.identity.publicKey);
    a.server.cluster!.strike(`id:${idk}`, Date.now(), 1, 60_000);
    expect(
      await settles(async () => (await client.exists(`securechat:penalized:id:${idk}`)) === 1),
    ).toBe(true);
    const late = await node({});
    const c = await open(late);
    c.send(v2Hello(c.socket, 'shady', who));
    expect(await c.next((f) => f.type === 'welcome' || f.type === 'error')).toMatchObject({
      type: 'error',
      code: 'E_RATE_LIMITED',
    });
  });
});
