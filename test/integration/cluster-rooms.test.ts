import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * Rooms across nodes (issue 17). The `rooms` list counts members on every node. A node whose subscription to the other nodes drops (its Redis connection killed with
 * CLIENT KILL on the real redis-server, and kept from reconnecting by maxclients) misses
 * what they publish meanwhile (issue 17): a removal of its member still arrives (it travels
 * on the node's acknowledged stream), and once it is subscribed again its members get the
 * rooms' current state.
 */
let redis: TestRedis;
let admin: Redis;
const nodes: TestServer[] = [];
const clients: RawClient[] = [];
const CAPS = ['presence', 'ack', 'rooms'];

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

async function member(node: TestServer, name: string): Promise<RawClient> {
  const c = await RawClient.connect({ port: node.port, certPem: node.certPem });
  clients.push(c);
  c.send(v2Hello(c.socket, name, newIdentity(), CAPS));
  await c.next((f) => f.type === 'welcome');
  return c;
}

async function join(c: RawClient, room: string, id: string): Promise<Record<string, unknown>> {
  c.send({ type: 'join', room, id });
  return c.next((f) => f.type === 'joined' && f.id === id);
}

const joinedBy = (c: RawClient, user: string) =>
  c.next((f) => f.type === 'room' && f.event === 'join' && f.user === user);

/** Kills `node`'s subscriber connection and keeps Redis from taking a new connection. */
async function dropSubscription(node: TestServer): Promise<void> {
  const list = String(await admin.client('LIST'));
  const lines = list.split('\n').filter((line) => line.trim() !== '');
  const sub = lines.find((line) => line.includes(` name=sub:${node.server.cluster!.id} `));
  expect(sub, 'the subscriber connection is named').toBeDefined();
  const id = /(?:^|\s)id=(\d+)/.exec(sub!)![1]!;
  await admin.config('SET', 'maxclients', String(lines.length - 1));
  await admin.client('KILL', 'ID', id);
}

describe('a node that lost its subscription', () => {
  it('still removes its members on request, and sends the rooms again once resubscribed', async () => {
    const a = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    const b = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    nodes.push(a, b);
    const owner = await member(b, 'owner');
    const alice = await member(a, 'alice');
    const dave = await member(a, 'dave');
    const carol = await member(b, 'carol');
    expect(await join(owner, '#club', 'j1')).toMatchObject({ created: true });
    await join(alice, '#club', 'j2');
    await joinedBy(owner, 'alice');
    await join(dave, '#club', 'j3');
    await joinedBy(owner, 'dave');

    await dropSubscription(a);
    // Meanwhile on node b: carol joins (published: node a misses it), dave is kicked.
    await join(carol, '#club', 'j4');
    owner.send({ type: 'moderate', room: '#club', action: 'kick', user: 'dave', id: 'k1' });
    await owner.next((f) => f.type === 'ack' && f.id === 'k1');
    expect(
      await dave.next((f) => f.type === 'room' && f.event === 'kick' && f.user === 'dave'),
    ).toMatchObject({ by: 'owner' });
    await alice.next((f) => f.type === 'room' && f.event === 'kick' && f.user === 'dave');
    await alice.sync();
    expect(
      alice.frames.some((f) => f.room === '#club' && f.user === 'carol'),
      'the join was missed',
    ).toBe(false);

    await admin.config('SET', 'maxclients', '10000');
    const snapshot = await alice.next(
      (f) => f.type === 'joined' && f.id === undefined && f.room === '#club',
      10_000,
    );
    expect(Object.keys(snapshot.members as object).sort()).toEqual(['alice', 'carol', 'owner']);
    expect(a.logs.events('cluster.resubscribed').length).toBeGreaterThan(0);
  });
});

describe('the rooms list on a cluster', () => {
  it('counts the members on every node', async () => {
    const a = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    const b = await startTestServer({ redis: redis.url, clusterHeartbeatMs: 300 });
    nodes.push(a, b);
    const owner = await member(a, 'owner');
    const bob = await member(b, 'bob');
    const carol = await member(b, 'carol');
    await join(owner, '#club', 'j1');
    await join(bob, '#club', 'j2');
    await join(carol, '#club', 'j3');
    await joinedBy(owner, 'carol');
    for (const [asker, id] of [
      [owner, 'r1'],
      [bob, 'r2'],
    ] as const) {
      asker.send({ type: 'rooms', id });
      const page = await asker.next((f) => f.type === 'rooms' && f.id === id);
      const rooms = page.rooms as Array<{ room: string; members: number }>;
      expect(rooms.find((r) => r.room === '#club')?.members).toBe(3);
      expect(rooms.find((r) => r.room === '#lobby')?.members).toBe(3);
    }
  });
});
