import { describe, expect, it } from 'vitest';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * A relay to a user on a node that stops reading its stream (issue 17): the sender is told
 * it failed once the relay's deadline passed ("did not confirm delivery"), never left
 * waiting, and the stuck node delivers nothing.
 */
const fixture = clusterFixture();
const { nodes, clients } = fixture;

describe('cross-node relay deadline', () => {
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
});
