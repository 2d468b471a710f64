import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RawClient } from './raw-client.js';
import { startTestRedis, type TestRedis } from './redis.js';
import type { TestServer } from './server.js';

/** What a cluster test file shares: one redis-server, and the nodes and clients of a test. */
export interface ClusterFixture {
  /** Started before the file's first test. */
  redis: TestRedis;
  /** Closed after each test. */
  nodes: TestServer[];
  /** Closed after each test. */
  clients: RawClient[];
}

/**
 * One real redis-server for the calling test file (started before its tests, stopped after
 * them); after each test its clients and nodes are closed and Redis is emptied.
 */
export function clusterFixture(): ClusterFixture {
  const fixture = { nodes: [], clients: [] } as unknown as ClusterFixture;
  beforeAll(async () => {
    fixture.redis = await startTestRedis();
  });
  afterAll(async () => {
    await fixture.redis?.close();
  });
  afterEach(async () => {
    for (const client of fixture.clients.splice(0)) client.close();
    for (const node of fixture.nodes.splice(0)) await node.close();
    const client = fixture.redis.client();
    await client.flushall();
    client.disconnect();
  });
  return fixture;
}
