import { afterEach, describe, expect, it } from 'vitest';
import {
  kemKeyPair,
  MAX_KEM_PREKEYS_PER_UPLOAD,
  newKemSeed,
  signKemPrekey,
  toBase64,
} from '../../src/protocol/index.js';
import { SqliteStore } from '../../src/server/store/index.js';
import { ALL_CAPS, helloV2, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity } from '../helpers/v2-hello.js';

const PQ_CAPS = [...ALL_CAPS, 'spk', 'pq'];

/** A KEM prekey upload record as a client makes it. */
function kemKey(who: TestIdentity, id: number, created: number, lastResort = false) {
  const { publicKey } = kemKeyPair(newKemSeed());
  return {
    id,
    created,
    pub: toBase64(publicKey),
    sig: toBase64(signKemPrekey(who.identity.secretKey, { id, created, lastResort, publicKey })),
  };
}

describe('KEM prekeys on the server (PQXDH)', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  const start = async (overrides = {}) => {
    t = await startTestServer(overrides, { store: new SqliteStore(':memory:') });
  };
  const login = async (user: string, who: TestIdentity, caps = PQ_CAPS) => {
    const client = await loginV2(t, user, who, { caps });
    clients.push(client);
    const count = await client.next((f) => f.type === 'prekeys');
    return Object.assign(client, { count });
  };
  const bundle = async (asker: RawClient, user: string, id: string) => {
    asker.send({ type: 'bundle', user, id });
    return asker.next((f) => f.id === id && (f.type === 'bundle' || f.type === 'error'));
  };
  const upload = async (client: RawClient, frame: Record<string, unknown>) => {
    client.send({ type: 'prekeys', keys: [], ...frame });
    return client.next((f) => f.type === 'prekeys' || f.type === 'error');
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('offers pq; a full batch of 25 fits the default line; each one-time key goes out once, then the last resort many times', async () => {
    await start();
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    expect(alice.count).toEqual({ type: 'prekeys', stored: 0, kem: 0 });
    const keys = Array.from({ length: MAX_KEM_PREKEYS_PER_UPLOAD }, (_, i) =>
      kemKey(aliceId, 0xffffff00 + i, 1_764_000_000_000 + i),
    );
    const last = kemKey(aliceId, 5, 1_764_000_000_000, true);
    const frame = { type: 'prekeys', keys: [], kem: keys, kemlr: last };
    expect(JSON.stringify(frame).length).toBeLessThan(64 * 1024);
    expect(await upload(alice, frame)).toEqual({
      type: 'prekeys',
      stored: 0,
      kem: 25,
      kemlr: { id: 5, created: 1_764_000_000_000 },
    });
    const bob = await login('bob', newIdentity());
    const seen = new Set<number>();
    for (let i = 0; i < 25; i++) {
      const got = await bundle(bob, 'alice', `b${i}`);
      const kem = got.kem as { id: number; pub: string; last?: boolean };
      expect(kem.last).toBeUndefined();
      expect(seen.has(kem.id)).toBe(false);
      seen.add(kem.id);
    }
    expect(seen.size).toBe(25);
    for (let i = 0; i < 3; i++) {
      const got = await bundle(bob, 'alice', `lr${i}`);
      expect(got.kem).toEqual({ ...last, last: true });
    }
  });

  it('gives no KEM prekey to a requester without pq (its one-time keys are not wasted)', async () => {
    await start();
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    await upload(alice, {
      kem: [kemKey(aliceId, 1, 1_000)],
      kemlr: kemKey(aliceId, 2, 1_000, true),
    });
    const old = await login('old', newIdentity(), [...ALL_CAPS, 'spk']);
    expect((await bundle(old, 'alice', 'o')).kem).toBeUndefined();
    const bob = await login('bob', newIdentity());
    expect((await bundle(bob, 'alice', 'b')).kem).toMatchObject({ id: 1 });
  });

  it('refuses KEM prekeys not signed by the owner, or signed as the other sort, and stores nothing', async () => {
    await start();
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    const other = newIdentity();
    expect(await upload(alice, { kem: [kemKey(other, 1, 1_000)] })).toMatchObject({
      type: 'error',
      code: 'E_BAD_PROOF',
    });
    // A one-time key offered as the last resort (its signature says one-time).
    expect(await upload(alice, { kemlr: kemKey(aliceId, 2, 1_000, false) })).toMatchObject({
      code: 'E_BAD_PROOF',
    });
    expect(await upload(alice, { kem: [kemKey(aliceId, 3, 1_000, true)] })).toMatchObject({
      code: 'E_BAD_PROOF',
    });
    const bob = await login('bob', newIdentity());
    expect((await bundle(bob, 'alice', 'b')).kem).toBeUndefined();
  });

  it('refuses more than 25 KEM prekeys in one frame and duplicate ids', async () => {
    await start();
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    const many = Array.from({ length: 26 }, (_, i) => kemKey(aliceId, i, 1_000));
    expect(await upload(alice, { kem: many })).toMatchObject({ code: 'E_BAD_FIELD' });
    const twice = kemKey(aliceId, 1, 1_000);
    expect(await upload(alice, { kem: [twice, twice] })).toMatchObject({ code: 'E_BAD_FIELD' });
  });

  it('hands out one-time KEM prekeys at the one-time prekey rate; past it, the last resort', async () => {
    await start({ bundleOpksPerTarget: 2 });
    const aliceId = newIdentity();
    const alice = await login('alice', aliceId);
    const keys = [1, 2, 3, 4].map((id) => kemKey(aliceId, id, 1_000 + id));
    const last = kemKey(aliceId, 9, 1_000, true);
    await upload(alice, { kem: keys, kemlr: last });
    const bob = await login('bob', newIdentity());
    const a = await bundle(bob, 'alice', 'a');
    const b = await bundle(bob, 'alice', 'b');
    const c = await bundle(bob, 'alice', 'c');
    expect([a.kem, b.kem].map((k) => (k as { id: number }).id)).toEqual([1, 2]);
    expect(c.kem).toEqual({ ...last, last: true });
  });

  it('does not offer pq when its line limit cannot carry a KEM upload', async () => {
    await start({ maxLineBytes: 16 * 1024 });
    const { client, answer } = await helloV2(t, 'carol', newIdentity(), { caps: PQ_CAPS });
    clients.push(client);
    expect(answer.caps).not.toContain('pq');
    expect(answer.caps).toContain('spk');
    expect(await client.next((f) => f.type === 'prekeys')).toEqual({ type: 'prekeys', stored: 0 });
  });
});
