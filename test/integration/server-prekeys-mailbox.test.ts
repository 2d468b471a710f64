import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawClient } from '../helpers/raw-client.js';
import { goOffline, startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity, v2Hello } from '../helpers/v2-hello.js';

const NONCE = Buffer.alloc(12, 1).toString('base64');
const relay = (to: string, id: string, text = id) => ({
  type: 'relay',
  to,
  alg: 'X3DH+DR+AESGCM',
  header: Buffer.from(`hdr-${text}`).toString('base64'),
  nonce: NONCE,
  cipher: Buffer.from(`cipher-${text}-0123456789abcdef`).toString('base64'),
  id,
});
const prekey = (id: number) => ({ id, pub: randomBytes(32).toString('base64') });
const CAPS = ['presence', 'ack', 'ping', 'ratchet', 'mailbox'];

describe('v2 prekeys and mailbox over real TLS', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const hello = async (user: string, who: TestIdentity, caps = CAPS) => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(client);
    client.send(v2Hello(client.socket, user, who, caps));
    await client.next((f) => f.type === 'welcome');
    return client;
  };

  beforeEach(async () => {
    t = await startTestServer({ mailboxPerSender: 3 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('stores uploaded prekeys and hands each one out once, online or offline', async () => {
    const aliceId = newIdentity();
    const alice = await hello('alice', aliceId);
    expect(await alice.next((f) => f.type === 'prekeys')).toEqual({ type: 'prekeys', stored: 0 });
    const keys = [prekey(1), prekey(2), prekey(3)];
    alice.send({ type: 'prekeys', keys });
    expect(await alice.next((f) => f.type === 'prekeys')).toEqual({ type: 'prekeys', stored: 3 });
    await goOffline(t, alice, 'alice');

    const bob = await hello('bob', newIdentity());
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      bob.send({ type: 'bundle', user: 'alice', id: `b${i}` });
      const bundle = await bob.next((f) => f.type === 'bundle' && f.id === `b${i}`);
      expect(bundle).toMatchObject({
        user: 'alice',
        idk: Buffer.from(aliceId.identity.publicKey).toString('base64'),
        online: false,
      });
      const opk = bundle.opk as { id: number; pub: string } | undefined;
      if (i < 3) {
        expect(opk).toBeDefined();
        expect(seen.has(opk!.id)).toBe(false);
        seen.add(opk!.id);
        expect(keys.find((k) => k.id === opk!.id)?.pub).toBe(opk!.pub);
      } else {
        expect(opk).toBeUndefined(); // none left: X3DH goes on without a one-time prekey
      }
    }
    bob.send({ type: 'bundle', user: 'nobody', id: 'nb' });
    expect((await bob.error('E_NO_BUNDLE')).ref).toBe('nb');
  });

  it('refuses prekey uploads from v1 sessions', async () => {
    const legacy = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'seed' });
    clients.push(legacy);
    legacy.send({ type: 'prekeys', keys: [prekey(1)] });
    await legacy.error('E_NEEDS_IDENTITY');
  });

  it('keeps messages for an offline v2 identity until it acknowledges them', async () => {
    const aliceId = newIdentity();
    await goOffline(t, await hello('alice', aliceId), 'alice');
    const bob = await hello('bob', newIdentity());
    bob.send(relay('alice', 'm1'));
    bob.send(relay('alice', 'm2'));
    expect(await bob.next((f) => f.type === 'ack' && f.id === 'm1')).toEqual({
      type: 'ack',
      id: 'm1',
      queued: true,
    });
    await bob.next((f) => f.type === 'ack' && f.id === 'm2');

    const first = await hello('alice', aliceId);
    const m1 = await first.next((f) => f.type === 'relay' && f.id === 'm1');
    const m2 = await first.next((f) => f.type === 'relay' && f.id === 'm2');
    expect(m1).toMatchObject({ from: 'bob', header: relay('alice', 'm1').header });
    expect(m2.seq as number).toBeGreaterThan(m1.seq as number);
    await goOffline(t, first, 'alice'); // no `fetched`: they must come again
    const second = await hello('alice', aliceId);
    const again = await second.next((f) => f.type === 'relay' && f.id === 'm1');
    second.send({ type: 'fetched', upto: m2.seq });
    await second.sync(); // the server handled `fetched` before this pong
    await goOffline(t, second, 'alice');
    const third = await hello('alice', aliceId);
    await third.sync(); // anything still queued was delivered before this pong
    expect(third.frames.filter((f) => f.type === 'relay')).toHaveLength(0);
    expect(again.seq).toBe(m1.seq);
  });

  it('bounds what one sender may leave, and does not store for v1 or unknown users', async () => {
    const aliceId = newIdentity();
    await goOffline(t, await hello('alice', aliceId), 'alice');
    const bob = await hello('bob', newIdentity());
    for (let i = 0; i < 3; i++) bob.send(relay('alice', `q${i}`));
    bob.send(relay('alice', 'q3'));
    expect((await bob.error('E_MAILBOX_FULL')).ref).toBe('q3');
    bob.send(relay('nobody', 'x'));
    await bob.error('E_PEER_OFFLINE');
    const noMailbox = newIdentity();
    await goOffline(t, await hello('carol', noMailbox, ['presence', 'ack']), 'carol');
    bob.send(relay('carol', 'c1'));
    expect((await bob.error('E_PEER_OFFLINE')).ref).toBe('c1');
  });
});
