import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * Hostile-peers limits hold for the cluster, not per node (issue 17 with issue 13): a client
 * spreading its requests over two nodes gets no more than from one.
 */
const fixture = clusterFixture();
const { nodes, clients } = fixture;

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
