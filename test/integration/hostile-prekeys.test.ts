import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Attacker, ChattingPair, loginV2 } from '../helpers/hostile.js';
import type { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2';
const VICTIM = '127.0.0.5';
const EVIL = '127.0.0.9';
const prekeys = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, pub: randomBytes(32).toString('base64') }));

async function bundle(client: RawClient, user: string, id: string) {
  client.send({ type: 'bundle', user, id });
  return client.next(
    (f) => (f.type === 'bundle' && f.id === id) || (f.type === 'error' && f.ref === id),
  );
}

describe('hostile users against one-time prekeys', () => {
  let t: TestServer;
  const attackers: Attacker[] = [];
  afterEach(async () => {
    for (const attacker of attackers.splice(0)) attacker.closeAll();
    await t?.close();
  });

  it('attack 7: v1 connections get no bundles; many identities cannot drain one user', async () => {
    // Failed on the old code: 8 v1 connections drained all 200 prekeys in milliseconds.
    t = await startTestServer({ bundleOpksPerTarget: 20 });
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    const victim = await loginV2(t, 'victim', newIdentity(), { localAddress: VICTIM });
    victim.send({ type: 'prekeys', keys: prekeys(1, 100) });
    victim.send({ type: 'prekeys', keys: prekeys(101, 100) });
    await victim.next((f) => f.type === 'prekeys' && f.stored === 200);

    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    let handedOut = 0;
    for (let c = 0; c < 8; c++) {
      const legacy = await attacker.connect();
      legacy.send({ type: 'hello', user: `drain${c}`, pub: randomBytes(32).toString('base64') });
      await legacy.next((f) => f.type === 'welcome');
      for (let i = 0; i < 5; i++) {
        const answer = await bundle(legacy, 'victim', `v1b${i}`);
        expect(answer.code).toBe('E_NEEDS_IDENTITY');
      }
    }
    for (let c = 0; c < 6; c++) {
      const { client } = await attacker.login(`thirsty${c}`);
      for (let i = 0; i < 35; i++) {
        const answer = await bundle(client, 'victim', `b${i}`);
        if (answer.type === 'bundle' && answer.opk) handedOut++;
        if (i >= 30) expect(answer.code).toBe('E_RATE_LIMITED'); // per requester
      }
    }
    expect(handedOut).toBeLessThanOrEqual(20); // per target
    // A friend still gets a bundle (X3DH works without a one-time prekey).
    const friend = await loginV2(t, 'friend', newIdentity(), { localAddress: GOOD });
    expect(await bundle(friend, 'victim', 'f1')).toMatchObject({ type: 'bundle', user: 'victim' });
    victim.send({ type: 'ping' });
    await victim.next((f) => f.type === 'pong');
    await pair.stop();
  });

  it('attack 7: the per-requester limit follows the identity across reconnects', async () => {
    t = await startTestServer();
    const victim = await loginV2(t, 'victim', newIdentity(), { localAddress: VICTIM });
    victim.send({ type: 'prekeys', keys: prekeys(1, 50) });
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const who = newIdentity();
    let refused = 0;
    for (let round = 0; round < 3; round++) {
      const { client } = await attacker.login('hopper', who);
      for (let i = 0; i < 15; i++)
        if ((await bundle(client, 'victim', `r${round}x${i}`)).code === 'E_RATE_LIMITED') refused++;
      client.close();
      await client.closed;
    }
    expect(refused).toBeGreaterThanOrEqual(15);
  });
});
