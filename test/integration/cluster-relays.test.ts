import type { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import { MAX_FORWARDS_IN_FLIGHT } from '../../src/server/frame-table.js';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * Relays between nodes (issue 17). A relay to a user on a node that stops reading its
 * stream: the sender is told it failed once the relay's deadline passed ("did not confirm
 * delivery"), never left waiting, and the stuck node delivers nothing. A sender with many
 * relays unanswered by other nodes waits (its next frame) past the cap. E_REPLACED
 * travels on the older session's node stream (acknowledged), not only on the presence
 * channel: with that node's subscription killed (CLIENT KILL on the real redis-server, kept
 * from reconnecting by maxclients), the older session is still told it was replaced.
 *
 * Hostile-peers limits hold for the cluster, not per node (issue 17 with issue 13): a client
 * spreading its requests over two nodes gets no more than from one. (One file and one
 * redis-server for both: the fixture empties Redis and closes every node after each test.)
 */
const fixture = clusterFixture();
const { nodes, clients } = fixture;
let admin: Redis;
beforeAll(() => {
  admin = fixture.redis.client();
});
// Registered after the fixture's, so it runs before the fixture's cleanup (hooks unwind).
afterEach(async () => {
  await admin.config('SET', 'maxclients', '10000');
});

async function twoNodes(overrides: Partial<ServerConfig>): Promise<TestServer[]> {
  for (let i = 0; i < 2; i++)
    nodes.push(
      await startTestServer({ redis: fixture.redis.url, clusterHeartbeatMs: 300, ...overrides }),
    );
  return nodes.slice(-2);
}

async function hello(node: TestServer, frame: (c: RawClient) => Record<string, unknown>) {
  const client = await RawClient.connect({ port: node.port, certPem: node.certPem });
  clients.push(client);
  client.send(frame(client));
  return { client, answer: await client.next((f) => f.type === 'welcome' || f.type === 'error') };
}

describe('cross-node relays', () => {
  it('reports E_PEER_OFFLINE to the sender when the other node does not answer in time', async () => {
    // Heartbeats slow enough that the stuck node is not reaped during the test.
    for (let i = 0; i < 2; i++)
      nodes.push(
        await startTestServer({
          redis: fixture.redis.url,
          clusterHeartbeatMs: 60_000,
          clusterRelayTimeoutMs: 400,
        }),
      );
    const [a, b] = nodes as [TestServer, TestServer];
    const alice = await RawClient.hello({ port: a.port, certPem: a.certPem, user: 'alice' });
    const bob = await RawClient.hello({ port: b.port, certPem: b.certPem, user: 'bob' });
    clients.push(alice, bob);
    expect(await until(() => a.server.directory.get('bob') !== undefined)).toBe(true);
    b.server.cluster!.freeze(); // stops reading its stream, as a hung process would
    const sentAt = Date.now();
    alice.send({
      type: 'relay',
      to: 'bob',
      alg: 'X25519+AESGCM',
      nonce: Buffer.alloc(12, 7).toString('base64'),
      cipher: Buffer.alloc(40, 9).toString('base64'),
      id: 'late',
    });
    const error = await alice.next((f) => f.type === 'error' || f.type === 'ack', 5000);
    expect(error).toMatchObject({ type: 'error', code: 'E_PEER_OFFLINE' });
    expect(String(error.text)).toContain('did not confirm delivery');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(390);
    expect(a.server.cluster!.figures(0).timedOut).toBe(1);
    await alice.sync();
    expect(bob.frames.some((f) => f.type === 'relay')).toBe(false);
  });

  it('makes a sender with too many relays unanswered by another node wait for the next one', async () => {
    for (let i = 0; i < 2; i++)
      nodes.push(
        await startTestServer({
          redis: fixture.redis.url,
          clusterHeartbeatMs: 60_000,
          clusterRelayTimeoutMs: 400,
        }),
      );
    const [a, b] = nodes as [TestServer, TestServer];
    const alice = await RawClient.hello({ port: a.port, certPem: a.certPem, user: 'alice' });
    const bob = await RawClient.hello({ port: b.port, certPem: b.certPem, user: 'bob' });
    clients.push(alice, bob);
    expect(await until(() => a.server.directory.get('bob') !== undefined)).toBe(true);
    b.server.cluster!.freeze(); // no answers: each relay is answered at its deadline
    const count = MAX_FORWARDS_IN_FLIGHT + 2;
    for (let i = 0; i < count; i++)
      alice.send({
        type: 'relay',
        to: 'bob',
        alg: 'X25519+AESGCM',
        nonce: Buffer.alloc(12, 7).toString('base64'),
        cipher: Buffer.alloc(40, 9).toString('base64'),
        id: `r${i}`,
      });
    alice.send({ type: 'ping' });
    const answered = (f: Record<string, unknown>) => f.type === 'error' || f.type === 'pong';
    expect(await until(() => alice.frames.filter(answered).length === count + 1, 5000)).toBe(true);
    const order = alice.frames.filter(answered).map((f) => String(f.ref ?? f.type));
    // The first MAX went on at once; the one past the cap held the session until its own
    // answer came (at its deadline, with the others); then the last one and the ping.
    expect(order.indexOf('pong')).toBeGreaterThan(order.indexOf(`r${MAX_FORWARDS_IN_FLIGHT}`));
    expect(order.indexOf('pong')).toBeLessThan(order.indexOf(`r${count - 1}`));
    expect(new Set(order).size).toBe(count + 1); // each relay answered once
    expect(
      alice.frames.filter((f) => f.type === 'error').every((f) => f.code === 'E_PEER_OFFLINE'),
    ).toBe(true);
  });

  it('tells the older session E_REPLACED even when its node lost its subscription', async () => {
    const a = await startTestServer({ redis: fixture.redis.url, clusterHeartbeatMs: 300 });
    const b = await startTestServer({ redis: fixture.redis.url, clusterHeartbeatMs: 300 });
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

describe('limits across the cluster', () => {
  it('new names per hour count hellos on every node (v1 and v2)', async () => {
    const [a, b] = await twoNodes({ newNamesPerHour: 3 });
    const pub = Buffer.alloc(32, 1).toString('base64');
    const answers = [];
    answers.push((await hello(a!, () => ({ type: 'hello', user: 'v1a', pub }))).answer);
    answers.push((await hello(b!, () => ({ type: 'hello', user: 'v1b', pub }))).answer);
    answers.push((await hello(a!, (c) => v2Hello(c.socket, 'v2a', newIdentity()))).answer);
    answers.push((await hello(b!, (c) => v2Hello(c.socket, 'v2b', newIdentity()))).answer);
    answers.push((await hello(b!, () => ({ type: 'hello', user: 'v1c', pub }))).answer);
    expect(answers.map((f) => f.type)).toEqual(['welcome', 'welcome', 'welcome', 'error', 'error']);
    expect(answers[3]).toMatchObject({ code: 'E_NAME_QUOTA' });
  });

  it('bundle requests per identity count on every node', async () => {
    const [a, b] = await twoNodes({ bundlesPerMinute: 2 });
    const who = newIdentity();
    const x = (await hello(a!, (c) => v2Hello(c.socket, 'asker', who))).client;
    const y = (await hello(b!, (c) => v2Hello(c.socket, 'asker', who))).client;
    await x.error('E_REPLACED');
    const z = (await hello(a!, (c) => v2Hello(c.socket, 'asker', who))).client;
    await y.error('E_REPLACED');
    const answers = [];
    for (const [client, id] of [
      [z, 'b1'],
      [z, 'b2'],
    ] as const) {
      client.send({ type: 'bundle', user: 'nobody', id });
      answers.push(await client.next((f) => f.ref === id || f.id === id));
    }
    const w = (await hello(b!, (c) => v2Hello(c.socket, 'asker', who))).client;
    w.send({ type: 'bundle', user: 'nobody', id: 'b3' });
    answers.push(await w.next((f) => f.ref === 'b3' || f.id === 'b3'));
    expect(answers.map((f) => f.code)).toEqual(['E_NO_BUNDLE', 'E_NO_BUNDLE', 'E_RATE_LIMITED']);
  });
});
