/**
 * Issue 15: a sender whose message the server stored hears when the recipient fetched it
 * (an `ack` with `fetched`, the server's report), instead of seeing `stored` forever.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultServerConfig } from '../../src/server/config.js';
import { RawClient, TestClock } from '../helpers/raw-client.js';
import { goOffline, startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity, v2Hello } from '../helpers/v2-hello.js';

const relay = (to: string, id: string) => ({
  type: 'relay',
  to,
  alg: 'X3DH+DR+AESGCM',
  header: Buffer.from(`hdr-${id}`).toString('base64'),
  nonce: Buffer.alloc(12, 1).toString('base64'),
  cipher: Buffer.from(`cipher-${id}-0123456789abcdef`).toString('base64'),
  id,
});
const CAPS = ['presence', 'ack', 'ping', 'ratchet', 'mailbox'];

describe('fetched notices for stored messages', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const hello = async (user: string, who: TestIdentity) => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(client);
    client.send(v2Hello(client.socket, user, who, CAPS));
    await client.next((f) => f.type === 'welcome');
    return client;
  };
  beforeEach(async () => {
    t = await startTestServer({});
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('tells an online sender once the recipient acknowledged the message', async () => {
    const aliceId = newIdentity();
    await goOffline(t, await hello('alice', aliceId), 'alice');
    const bob = await hello('bob', newIdentity());
    bob.send(relay('alice', 'm1'));
    await bob.next((f) => f.type === 'ack' && f.id === 'm1' && f.queued === true);

    const alice = await hello('alice', aliceId);
    const m1 = await alice.next((f) => f.type === 'relay' && f.id === 'm1');
    await bob.sync();
    expect(bob.frames.filter((f) => f.type === 'ack' && f.fetched === true)).toHaveLength(0);
    alice.send({ type: 'fetched', upto: m1.seq });
    expect(await bob.next((f) => f.type === 'ack' && f.fetched === true)).toEqual({
      type: 'ack',
      id: 'm1',
      fetched: true,
    });
    // once: a second `fetched` for the same range says nothing more
    alice.send({ type: 'fetched', upto: m1.seq });
    await alice.sync();
    await bob.sync();
    expect(bob.frames.filter((f) => f.type === 'ack' && f.fetched === true)).toHaveLength(0);
  });

  /** alice (offline) gets m1 from bob, who is offline by the time alice fetches it. */
  const fetchedWhileAway = async (aliceId: TestIdentity, bobId: TestIdentity) => {
    await goOffline(t, await hello('alice', aliceId), 'alice');
    const bob = await hello('bob', bobId);
    bob.send(relay('alice', 'm1'));
    await bob.next((f) => f.type === 'ack' && f.id === 'm1' && f.queued === true);
    await goOffline(t, bob, 'bob');
    const alice = await hello('alice', aliceId);
    const m1 = await alice.next((f) => f.type === 'relay' && f.id === 'm1');
    alice.send({ type: 'fetched', upto: m1.seq });
    await alice.sync(); // the fetched (and the notice kept) was handled before the pong
  };

  it('keeps the notice for a sender who was offline, and tells it once when it comes back', async () => {
    const bobId = newIdentity();
    await fetchedWhileAway(newIdentity(), bobId);
    const back = await hello('bob', bobId);
    expect(await back.next((f) => f.type === 'ack' && f.fetched === true)).toEqual({
      type: 'ack',
      id: 'm1',
      fetched: true,
    });
    await goOffline(t, back, 'bob');
    const again = await hello('bob', bobId);
    await again.sync();
    expect(again.frames.filter((f) => f.type === 'ack' && f.fetched === true)).toHaveLength(0);
  });

  it('forgets the notice after the mailbox TTL', async () => {
    await t.close();
    const clock = new TestClock(Date.now());
    t = await startTestServer({}, { now: clock.now });
    const bobId = newIdentity();
    await fetchedWhileAway(newIdentity(), bobId);
    clock.advance(defaultServerConfig.mailboxTtlMs + 1);
    const back = await hello('bob', bobId);
    await back.sync();
    expect(back.frames.filter((f) => f.type === 'ack' && f.fetched === true)).toHaveLength(0);
  });

  it('keeps no notice for a legacy sender, whose name anyone may take next', async () => {
    const aliceId = newIdentity();
    await goOffline(t, await hello('alice', aliceId), 'alice');
    const carl = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'carl' });
    clients.push(carl);
    carl.send({
      type: 'relay',
      to: 'alice',
      alg: 'X25519+AESGCM',
      nonce: Buffer.alloc(12, 2).toString('base64'),
      cipher: Buffer.from('legacy-cipher-0123456789abcdef').toString('base64'),
      id: 'v1m',
    });
    await carl.next((f) => f.type === 'ack' && f.id === 'v1m');
    await goOffline(t, carl, 'carl');
    const alice = await hello('alice', aliceId);
    const stored = await alice.next((f) => f.type === 'relay' && f.id === 'v1m');
    alice.send({ type: 'fetched', upto: stored.seq });
    await alice.sync();
    // Someone else takes the free name "carl" with an identity: told nothing of it.
    const other = await hello('carl', newIdentity());
    await other.sync();
    expect(other.frames.filter((f) => f.type === 'ack' && f.fetched === true)).toHaveLength(0);
  });
});
