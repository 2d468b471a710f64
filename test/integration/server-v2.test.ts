import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/protocol/index.js';
import { RawClient, randomPub } from '../helpers/raw-client.js';
import { goOffline, startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, type TestIdentity, v2Hello } from '../helpers/v2-hello.js';

const NONCE = Buffer.alloc(12, 7).toString('base64');
const CIPHER = Buffer.alloc(40, 9).toString('base64');
const relay = (to: string) => ({
  type: 'relay',
  to,
  alg: 'X25519+AESGCM',
  nonce: NONCE,
  cipher: CIPHER,
});

describe('v2 identity hello over real TLS', () => {
  let t: TestServer;
  let dataDir: string;
  const clients: RawClient[] = [];

  const connect = async () => {
    const client = await RawClient.connect({ port: t.port, certPem: t.certPem });
    clients.push(client);
    return client;
  };
  const helloV2 = async (user: string, who: TestIdentity, caps?: string[]) => {
    const client = await connect();
    client.send(v2Hello(client.socket, user, who, caps));
    const welcome = await client.next((f) => f.type === 'welcome' || f.type === 'error');
    if (welcome.type !== 'welcome') throw new Error(`refused: ${JSON.stringify(welcome)}`);
    return { client, welcome };
  };
  const helloV1 = async (user: string) => {
    const client = await RawClient.hello({ port: t.port, certPem: t.certPem, user });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'securechat-store-'));
    t = await startTestServer({ dataPath: join(dataDir, 'state.db') });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await t.close();
  });

  it('accepts a proven hello and publishes identity key, key signature and version', async () => {
    const alice = newIdentity();
    const { welcome } = await helloV2('alice', alice);
    expect(welcome.v).toBe(2);
    expect(welcome.caps).toContain('presence');
    const peers = welcome.peers as Record<string, Record<string, unknown>>;
    expect(peers.alice).toMatchObject({
      pub: toBase64(alice.x25519.publicKey),
      idk: toBase64(alice.identity.publicKey),
      v: 2,
    });
    expect(typeof peers.alice?.sig).toBe('string');
    expect(t.logs.events('hello.accepted')[0]).toMatchObject({ v: 2, identity: 'new' });
  });

  it('refuses a hello whose key signature or proof does not verify', async () => {
    const alice = newIdentity();
    const client = await connect();
    const forged = v2Hello(client.socket, 'alice', alice);
    forged.pub = randomPub(); // the server swapping keys would look like this
    client.send(forged);
    await client.error('E_BAD_PROOF');
    const ok = v2Hello(client.socket, 'alice', alice);
    client.send({ ...ok, proof: toBase64(new Uint8Array(64)) });
    await client.error('E_BAD_PROOF');
    client.send(ok); // a correct hello on the same connection still works
    await client.next((f) => f.type === 'welcome');
  });

  it('rejects a captured hello replayed on another connection', async () => {
    const alice = newIdentity();
    const first = await connect();
    const captured = v2Hello(first.socket, 'alice', alice);
    first.close();
    const attacker = await connect();
    attacker.send(captured);
    const error = await attacker.error('E_BAD_PROOF');
    expect(error.text).toMatch(/proof/);
  });

  it('binds a name to its first identity key, across a server restart', async () => {
    const alice = newIdentity();
    const { client } = await helloV2('alice', alice);
    await goOffline(t, client, 'alice');
    await t.close();
    t = await startTestServer({ dataPath: join(dataDir, 'state.db') });

    const impostor = await connect();
    impostor.send(v2Hello(impostor.socket, 'ALICE', newIdentity()));
    await impostor.error('E_NAME_BOUND');
    const legacy = await connect();
    legacy.send({ type: 'hello', user: 'alice', pub: randomPub() });
    await legacy.error('E_IDENTITY_REQUIRED');
    expect(t.logs.events('name.takeover_attempt')).toHaveLength(2);
    const { welcome } = await helloV2('alice', alice);
    expect(Object.keys(welcome.peers as object)).toEqual(['alice']);
  });

  it('hands the name over to a newer connection proving the same identity', async () => {
    const alice = newIdentity();
    const bob = await helloV2('bob', newIdentity());
    const old = await helloV2('alice', alice);
    const fresh = await helloV2('alice', alice);
    await old.client.error('E_REPLACED');
    await old.client.closed;
    bob.client.send(relay('alice'));
    expect((await fresh.client.next((f) => f.type === 'relay')).from).toBe('bob');
    expect(old.client.frames.filter((f) => f.type === 'relay')).toHaveLength(0);
  });

  it('does not hand over to a different identity while the name is online (unbound v1 holder)', async () => {
    await helloV1('carol');
    const client = await connect();
    client.send(v2Hello(client.socket, 'carol', newIdentity()));
    await client.error('E_NAME_TAKEN');
  });

  it('pushes deltas to v2 presence clients, nothing to v2 clients without it, users to v1', async () => {
    const watcher = await helloV2('watcher', newIdentity(), ['presence']);
    const quiet = await helloV2('quiet', newIdentity(), []);
    const legacy = await helloV1('legacy');
    const dave = newIdentity();
    const joiner = await helloV2('dave', dave);
    const join = await watcher.client.next((f) => f.type === 'presence' && f.user === 'dave');
    expect(join).toMatchObject({
      event: 'join',
      peer: { idk: toBase64(dave.identity.publicKey), v: 2 },
    });
    await legacy.next((f) => f.type === 'users' && 'dave' in (f.users as object));
    joiner.client.close();
    expect(
      await watcher.client.next((f) => f.type === 'presence' && f.event === 'leave'),
    ).toMatchObject({
      user: 'dave',
    });
    await quiet.client.sync(); // the leave was pushed to everyone before this pong
    expect(
      quiet.client.frames.filter((f) => f.type === 'presence' || f.type === 'users'),
    ).toHaveLength(0);
    quiet.client.send({ type: 'list' });
    const users = await quiet.client.next((f) => f.type === 'users');
    expect(Object.keys(users.peers as object).sort()).toEqual(['legacy', 'quiet', 'watcher']);
    expect((users.peers as Record<string, { v: number }>).legacy?.v).toBe(1);
  });

  it('relays between v1 and v2 clients both ways and answers ping', async () => {
    const v2 = await helloV2('neo', newIdentity());
    const v1 = await helloV1('seed');
    v2.client.send(relay('seed'));
    expect((await v1.next((f) => f.type === 'relay')).from).toBe('neo');
    v1.send(relay('neo'));
    expect((await v2.client.next((f) => f.type === 'relay')).from).toBe('seed');
    v2.client.send({ type: 'ping' });
    await v2.client.next((f) => f.type === 'pong');
  });
});
