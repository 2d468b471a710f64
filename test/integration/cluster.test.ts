import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/stats/prometheus-text.js';
import { snapshotFrom } from '../../src/stats/snapshot.js';
import { makeCertificate } from '../helpers/certs.js';
import { startChat } from '../helpers/chat-clients.js';
import { clusterFixture } from '../helpers/cluster-fixture.js';
import { barrier, RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';
import { newIdentity, type TestIdentity, v2Hello } from '../helpers/v2-hello.js';

/**
 * Several daemons sharing one real redis-server form one chat (issue 17): direct messages
 * both ways between nodes (v1 and v2) with the sender's ack coming back from the other
 * node, presence across nodes, one connection per name with E_REPLACED across nodes,
 * mailbox stored via one node and fetched via another, one certificate for all.
 */
const NONCE = Buffer.alloc(12, 7).toString('base64');
const CIPHER = Buffer.alloc(40, 9).toString('base64');
const relay = (to: string, id?: string) => ({
  type: 'relay',
  to,
  alg: 'X25519+AESGCM',
  nonce: NONCE,
  cipher: CIPHER,
  ...(id ? { id } : {}),
});

const fixture = clusterFixture();
const { nodes, clients } = fixture;

/** `n` daemons on one fresh key prefix (a fresh chat) of the shared Redis. */
async function cluster(n: number): Promise<TestServer[]> {
  const url = `${fixture.redis.url}/0`;
  const started: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    const node = await startTestServer({ redis: url, clusterHeartbeatMs: 300 }, {});
    nodes.push(node);
    started.push(node);
  }
  return started;
}

async function v1(node: TestServer, user: string): Promise<RawClient> {
  const client = await RawClient.hello({ port: node.port, certPem: node.certPem, user });
  clients.push(client);
  return client;
}

async function v2(
  node: TestServer,
  user: string,
  who: TestIdentity,
  caps = ['presence', 'ack', 'mailbox'],
): Promise<{ client: RawClient; welcome: Record<string, unknown> }> {
  const client = await RawClient.connect({ port: node.port, certPem: node.certPem });
  clients.push(client);
  client.send(v2Hello(client.socket, user, who, caps));
  const welcome = await client.next((f) => f.type === 'welcome' || f.type === 'error');
  return { client, welcome };
}

/** Waits until every node lists `name` online (or, with `online` false, none does). */
async function seenEverywhere(all: TestServer[], name: string, online = true): Promise<void> {
  const ok = await until(
    () => all.every((node) => (node.server.directory.get(name) !== undefined) === online),
    5000,
  );
  expect(ok, `${name} ${online ? 'online' : 'offline'} on every node`).toBe(true);
}

describe('a cluster of daemons over Redis', () => {
  it('relays v2 messages across nodes both ways, with the ack from the recipient node', async () => {
    const [a, b] = await cluster(2);
    const alice = await v2(a!, 'alice', newIdentity());
    const bob = await v2(b!, 'bob', newIdentity());
    await seenEverywhere([a!, b!], 'alice');
    await seenEverywhere([a!, b!], 'bob');
    for (let i = 0; i < 20; i++) alice.client.send(relay('bob', `m${i}`));
    for (let i = 0; i < 20; i++) {
      const got = await bob.client.next((f) => f.type === 'relay');
      expect(got).toMatchObject({ from: 'alice', cipher: CIPHER });
      expect(await alice.client.next((f) => f.type === 'ack')).toMatchObject({ id: `m${i}` });
    }
    bob.client.send(relay('alice', 'back'));
    expect(await alice.client.next((f) => f.type === 'relay')).toMatchObject({ from: 'bob' });
    expect(await bob.client.next((f) => f.type === 'ack')).toMatchObject({ id: 'back' });
    expect(a!.server.stats.relayForwarded).toBe(20);
    expect(b!.server.stats.relayDelivered).toBe(20);
  });

  it('keeps the order of each sender→recipient pair across nodes', async () => {
    const [a, b] = await cluster(2);
    const alice = await v1(a!, 'alice');
    const bob = await v1(b!, 'bob');
    await seenEverywhere([a!, b!], 'bob');
    for (let i = 0; i < 50; i++)
      alice.send({ ...relay('bob'), nonce: Buffer.alloc(12, i).toString('base64') });
    for (let i = 0; i < 50; i++) {
      const got = await bob.next((f) => f.type === 'relay');
      expect(got.nonce).toBe(Buffer.alloc(12, i).toString('base64'));
    }
    bob.send(relay('alice'));
    expect(await alice.next((f) => f.type === 'relay')).toMatchObject({ from: 'bob' });
  });

  it('lists and pushes presence across three nodes, and leaves when a user goes', async () => {
    const [a, b, c] = await cluster(3);
    const watcher = await v2(a!, 'watcher', newIdentity());
    const carol = await v2(c!, 'carol', newIdentity());
    expect(
      await watcher.client.next((f) => f.type === 'presence' && f.user === 'carol'),
    ).toMatchObject({ event: 'join' });
    const dave = await v1(b!, 'dave');
    const users = await dave.next((f) => f.type === 'users' && 'carol' in (f.users as object));
    expect(Object.keys(users.users as object).sort()).toEqual(['carol', 'dave', 'watcher']);
    carol.client.close();
    expect(
      await watcher.client.next((f) => f.type === 'presence' && f.user === 'carol'),
    ).toMatchObject({ event: 'leave' });
    await seenEverywhere([a!, b!, c!], 'carol', false);
  });

  it('one connection per name across nodes: the same identity replaces (E_REPLACED), another is refused', async () => {
    const [a, b] = await cluster(2);
    const alice = newIdentity();
    const first = await v2(a!, 'alice', alice);
    await seenEverywhere([a!, b!], 'alice');
    const second = await v2(b!, 'alice', alice);
    expect(second.welcome.type).toBe('welcome');
    await first.client.error('E_REPLACED');
    await until(
      () =>
        a!.server.directory.get('alice') !== undefined &&
        b!.server.directory.get('alice') !== undefined,
    );
    // v1 names cannot be taken over: a second v1 "eve" on the other node is refused
    await v1(a!, 'eve');
    await seenEverywhere([a!, b!], 'eve');
    const eve2 = await RawClient.connect({ port: b!.port, certPem: b!.certPem });
    clients.push(eve2);
    eve2.send({ type: 'hello', user: 'eve', pub: Buffer.alloc(32, 1).toString('base64') });
    await eve2.error('E_NAME_TAKEN');
    // messages to alice reach the newer connection on node b
    const bob = await v1(a!, 'bob');
    bob.send(relay('alice'));
    expect(await second.client.next((f) => f.type === 'relay')).toMatchObject({ from: 'bob' });
  });

  it('of two nodes admitting one v1 name at the same instant, exactly one wins', async () => {
    const [a, b] = await cluster(2);
    const [x, y] = await Promise.all(
      [a!, b!].map((node) => RawClient.connect({ port: node.port, certPem: node.certPem })),
    );
    clients.push(x!, y!);
    x!.send({ type: 'hello', user: 'zed', pub: Buffer.alloc(32, 1).toString('base64') });
    y!.send({ type: 'hello', user: 'zed', pub: Buffer.alloc(32, 2).toString('base64') });
    const answers = await Promise.all(
      [x!, y!].map((c) => c.next((f) => f.type === 'welcome' || f.type === 'error')),
    );
    expect(answers.map((f) => f.type).sort()).toEqual(['error', 'welcome']);
    const refused = answers.find((f) => f.type === 'error');
    expect(refused).toMatchObject({ code: 'E_NAME_TAKEN' });
    // counted like a local refusal, on whichever node refused
    expect(
      a!.server.stats.helloRefused.get('name_taken') +
        b!.server.stats.helloRefused.get('name_taken'),
    ).toBe(1);
  });

  it('stores a message via node A and delivers it via node B', async () => {
    const [a, b] = await cluster(2);
    const bobId = newIdentity();
    const bob = await v2(b!, 'bob', bobId);
    bob.client.close();
    await seenEverywhere([a!, b!], 'bob', false);
    const alice = await v2(a!, 'alice', newIdentity());
    alice.client.send(relay('bob', 's1'));
    expect(await alice.client.next((f) => f.type === 'ack')).toMatchObject({
      id: 's1',
      queued: true,
    });
    const again = await v2(b!, 'bob', bobId);
    expect(again.welcome.type).toBe('welcome');
    expect(await again.client.next((f) => f.type === 'relay')).toMatchObject({
      from: 'alice',
      cipher: CIPHER,
    });
  });

  it('a node whose certificate differs from the cluster pin refuses to start', async () => {
    await cluster(1);
    const other = await makeCertificate();
    await expect(
      startTestServer({
        redis: `${fixture.redis.url}/0`,
        certPath: other.certPath,
        keyPath: other.keyPath,
      }),
    ).rejects.toThrow(/differs from the one the cluster serves/);
  });

  it('a dead node (no heartbeat) has its users leave the other nodes', async () => {
    const [a, b] = await cluster(2);
    const watcher = await v2(a!, 'watcher', newIdentity());
    await v1(b!, 'ghost');
    await seenEverywhere([a!, b!], 'ghost');
    // Stop b's heartbeat as a kill -9 would, without telling anyone.
    b!.server.cluster!.freeze();
    expect(
      await watcher.client.next(
        (f) => f.type === 'presence' && f.user === 'ghost' && f.event === 'leave',
        10_000,
      ),
    ).toBeDefined();
    expect(a!.server.directory.get('ghost')).toBeUndefined();
  });
});

describe('a room spanning three nodes', () => {
  const CAPS = ['presence', 'ack', 'rooms'];
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const roommsg = (room: string, id: string) => ({
    type: 'roommsg',
    room,
    alg: 'SK1+AESGCM',
    header: b64(`hdr-${id}`),
    nonce: Buffer.alloc(12, 3).toString('base64'),
    cipher: b64(`ciphertext-${id}-0123456789`),
    sig: Buffer.alloc(64, 5).toString('base64'),
    id,
  });
  const join = async (client: RawClient, room: string, id: string) => {
    client.send({ type: 'join', room, id });
    return client.next(
      (f) => (f.type === 'joined' && f.room === room) || (f.type === 'error' && f.ref === id),
    );
  };

  it('fans messages out to members on every node; kick and ban reach members on other nodes', async () => {
    const [a, b, c] = await cluster(3);
    const owner = (await v2(a!, 'owner', newIdentity(), CAPS)).client;
    const bob = (await v2(b!, 'bob', newIdentity(), CAPS)).client;
    const carol = (await v2(c!, 'carol', newIdentity(), CAPS)).client;
    expect(await join(owner, '#club', 'j1')).toMatchObject({ type: 'joined', created: true });
    expect(await join(bob, '#club', 'j2')).toMatchObject({ type: 'joined' });
    await owner.next((f) => f.type === 'room' && f.event === 'join' && f.user === 'bob');
    const joined = await join(carol, '#club', 'j3');
    expect(Object.keys(joined.members as object).sort()).toEqual(['bob', 'carol', 'owner']);
    await owner.next((f) => f.type === 'room' && f.event === 'join' && f.user === 'carol');
    await bob.next((f) => f.type === 'room' && f.event === 'join' && f.user === 'carol');

    owner.send(roommsg('#club', 'm1'));
    for (const member of [bob, carol])
      expect(await member.next((f) => f.type === 'roommsg')).toMatchObject({
        from: 'owner',
        id: 'm1',
      });
    carol.send(roommsg('#club', 'm2'));
    for (const member of [owner, bob])
      expect(await member.next((f) => f.type === 'roommsg')).toMatchObject({
        from: 'carol',
        id: 'm2',
      });
    await barrier(owner, bob, carol);
    expect(carol.frames.filter((f) => f.type === 'roommsg')).toHaveLength(0);

    // the owner (node a) kicks carol (node c): everyone hears it, carol is out
    owner.send({
      type: 'moderate',
      room: '#club',
      action: 'kick',
      user: 'carol',
      reason: 'bye',
      id: 'k1',
    });
    await owner.next((f) => f.type === 'ack' && f.id === 'k1');
    for (const member of [owner, bob, carol])
      expect(await member.next((f) => f.type === 'room' && f.event === 'kick')).toMatchObject({
        user: 'carol',
        by: 'owner',
      });
    carol.send(roommsg('#club', 'm3'));
    await carol.error('E_NOT_MEMBER');

    // ban bob (node b): removed, and refused when he tries again from any node
    owner.send({ type: 'moderate', room: '#club', action: 'ban', user: 'bob', id: 'b1' });
    expect(await bob.next((f) => f.type === 'room' && f.event === 'ban')).toMatchObject({
      user: 'bob',
    });
    await owner.next((f) => f.type === 'room' && f.event === 'ban' && f.user === 'bob');
    expect(await join(bob, '#club', 'j4')).toMatchObject({ type: 'error' });
    owner.send({ type: 'who', room: '#club', id: 'w' });
    const who = await owner.next((f) => f.type === 'who');
    expect(Object.keys(who.members as object)).toEqual(['owner']);
  });
});

describe('cluster metrics', () => {
  it('each node serves per-node and cluster figures at /metrics, and `stats` parses them', async () => {
    const [a, b] = await Promise.all(
      [0, 1].map(() =>
        startTestServer({
          redis: `${fixture.redis.url}/0`,
          clusterHeartbeatMs: 300,
          metrics: '127.0.0.1:0',
        }),
      ),
    );
    nodes.push(a!, b!);
    const alice = await v1(a!, 'alice');
    await v1(b!, 'bob');
    await seenEverywhere([a!, b!], 'bob');
    alice.send(relay('bob', 'm1'));
    // (the ack comes back as an entry of a's own stream: one read there at least)
    expect(await alice.next((f) => f.type === 'ack')).toMatchObject({ id: 'm1' });
    await until(() => a!.server.cluster!.figures(0).nodes === 2);
    const { host, port } = a!.server.metricsAddress!;
    const text = await (await fetch(`http://${host}:${port}/metrics`)).text();
    // Batches: one relay went as one stream entry; b read it, a read b's answer.
    expect(text).toContain('securechat_cluster_stream_entries_total{direction="sent"} 1');
    expect(text).toMatch(/securechat_cluster_stream_entries_total\{direction="read"\} [1-9]/);
    expect(text).toMatch(/securechat_cluster_stream_reads_total [1-9]/);
    expect(b!.server.cluster!.figures(0)).toMatchObject({ received: 1, entriesSent: 0 });
    expect(b!.server.cluster!.figures(0).entriesRead).toBeGreaterThanOrEqual(1);
    const snapshot = snapshotFrom(parsePrometheusText(text), 0);
    expect(snapshot.cluster).toMatchObject({
      nodes: 2,
      users: { node: 1, cluster: 2 },
      relays: { forwarded: 1 },
    });
    expect(snapshot.cluster!.redisRttSeconds).toBeGreaterThan(0);
  });
});

describe('end-to-end clients across nodes', () => {
  it('two current clients on two nodes set up PQXDH through the shared store and talk both ways', async () => {
    const [a, b] = await cluster(2);
    const alice = await startChat('alice', a!.port, a!.server.pin);
    const bob = await startChat('bob', b!.port, b!.server.pin);
    try {
      // bob's KEM prekeys (uploaded through node b) reach alice's bundle through node a
      await until(() => alice.client.peers.get('bob') !== undefined, 10_000);
      expect(alice.client.sendDirect('bob', 'hello across nodes').ok).toBe(true);
      const got = await bob.waitFor(
        (e) => e.kind === 'message' && e.from === 'alice' && e.text === 'hello across nodes',
      );
      expect(got).toMatchObject({ protection: 'e2ee-pq' });
      expect(bob.client.sendDirect('alice', 'and back').ok).toBe(true);
      const back = await alice.waitFor(
        (e) => e.kind === 'message' && e.from === 'bob' && e.text === 'and back',
      );
      expect(back).toMatchObject({ protection: 'e2ee-pq' });
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});
