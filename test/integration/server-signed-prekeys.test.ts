import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateX25519KeyPair,
  SignedPrekeyKind,
  signPrekey,
  signSignedPrekey,
  toBase64,
} from '../../src/protocol/index.js';
import { SqliteStore } from '../../src/server/store/index.js';
import { ALL_CAPS, goOffline, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity } from '../helpers/v2-hello.js';

/** A signed prekey upload as a client makes it. */
function spk(who: TestIdentity, id: number, created: number) {
  const pair = generateX25519KeyPair();
  const record = { kind: SignedPrekeyKind.x25519, id, created, publicKey: pair.publicKey };
  return {
    id,
    created,
    pub: toBase64(pair.publicKey),
    sig: toBase64(signSignedPrekey(who.identity.secretKey, record)),
    pubsig: toBase64(signPrekey(who.identity.secretKey, pair.publicKey)),
  };
}

describe('signed prekeys on the server (current and previous per identity)', () => {
  let t: TestServer;
  let store: SqliteStore;
  const clients: RawClient[] = [];
  /** Logs in; the first prekeys line (sent after every welcome) is in `count`. */
  const login = async (user: string, who: TestIdentity) => {
    const client = await loginV2(t, user, who, { caps: ALL_CAPS });
    clients.push(client);
    const count = await client.next((f) => f.type === 'prekeys');
    return Object.assign(client, { count });
  };
  const bundle = async (asker: RawClient, user: string, id: string) => {
    asker.send({ type: 'bundle', user, id });
    return asker.next((f) => f.id === id && (f.type === 'bundle' || f.type === 'error'));
  };
  const upload = async (client: RawClient, frame: Record<string, unknown>) => {
    client.send({ type: 'prekeys', ...frame });
    return client.next((f) => f.type === 'prekeys' || f.type === 'error');
  };

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    t = await startTestServer({}, { store });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('announces spk, keeps the current and previous one, hands out the newest, refuses an older one', async () => {
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    expect(alice.count).toEqual({ type: 'prekeys', stored: 0 });
    const first = spk(aliceId, 7, 1_000);
    expect(await upload(alice, { keys: [], spk: first })).toEqual({
      type: 'prekeys',
      stored: 0,
      spk: { id: 7, created: 1_000 },
    });
    const bob = await login('bob', newIdentity());
    const got = await bundle(bob, 'alice', 'b1');
    expect(got).toMatchObject({
      pub: first.pub,
      sig: first.pubsig,
      spk: { id: 7, created: 1_000, sig: first.sig },
      idk: toBase64(aliceId.identity.publicKey),
      caps: ALL_CAPS,
    });
    // The hello key is not what the bundle carries any more.
    expect(got.pub).not.toBe(toBase64(aliceId.x25519.publicKey));

    const second = spk(aliceId, 8, 2_000);
    expect(await upload(alice, { spk: second })).toMatchObject({ spk: { id: 8 } });
    expect((await store.signedPrekey('alice', SignedPrekeyKind.x25519, 'previous'))?.id).toBe(7);
    // An older one (a client restored from a backup re-uploading it) does not roll it back,
    // and the answer says which one is current.
    expect(await upload(alice, { spk: spk(aliceId, 9, 1_500) })).toMatchObject({
      spk: { id: 8, created: 2_000 },
    });
    expect((await bundle(bob, 'alice', 'b2')).spk).toMatchObject({ id: 8 });
    // The same one again changes nothing.
    expect(await upload(alice, { spk: second })).toMatchObject({ spk: { id: 8 } });
    expect((await store.signedPrekey('alice', SignedPrekeyKind.x25519, 'previous'))?.id).toBe(7);

    // After a reconnect the count line names the current one.
    await goOffline(t, alice, 'alice');
    const again = await login('alice', aliceId);
    expect(again.count).toEqual({
      type: 'prekeys',
      stored: 0,
      spk: { id: 8, created: 2_000 },
    });
  });

  it('refuses a signed prekey not signed by the uploader (either signature)', async () => {
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    const stranger = spk(newIdentity(), 1, 1_000);
    expect(await upload(alice, { spk: stranger })).toMatchObject({ code: 'E_BAD_PROOF' });
    const halfForged = { ...spk(aliceId, 1, 1_000), pubsig: stranger.pubsig };
    expect(await upload(alice, { spk: halfForged })).toMatchObject({ code: 'E_BAD_PROOF' });
    expect(await store.signedPrekey('alice', SignedPrekeyKind.x25519)).toBeUndefined();
    const bob = await login('bob', newIdentity());
    const got = await bundle(bob, 'alice', 'b');
    // Without a signed prekey the bundle is what older servers send: the hello key.
    expect(got.pub).toBe(toBase64(aliceId.x25519.publicKey));
    expect(got.spk).toBeUndefined();
  });

  it('honours replace: a client that lost its one-time prekey secrets drops the old ones', async () => {
    const alice = await login('alice', newIdentity());
    const key = (id: number) => ({ id, pub: randomBytes(32).toString('base64') });
    expect(await upload(alice, { keys: [key(1), key(2), key(3)] })).toMatchObject({ stored: 3 });
    expect(await upload(alice, { keys: [key(10)], replace: true })).toMatchObject({ stored: 1 });
  });
});
