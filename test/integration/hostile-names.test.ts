import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/server/config.js';
import {
  Attacker,
  barrier,
  ChattingPair,
  goOffline,
  helloV2,
  loginV2,
  visit,
} from '../helpers/hostile.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2';
const VICTIM = '127.0.0.5';
const EVIL = '127.0.0.9';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('hostile users against names', () => {
  let t: TestServer;
  const attackers: Attacker[] = [];
  const clock = { now: 1_700_000_000_000 };
  const start = async (overrides: Partial<ServerConfig> = {}) => {
    t = await startTestServer(overrides, { now: () => clock.now });
    return t;
  };
  afterEach(async () => {
    for (const attacker of attackers.splice(0)) attacker.closeAll();
    await t?.close();
  });

  it('attack 5: one identity cannot squat names; the real alice gets hers', async () => {
    // Failed on the old code: one identity bound every name it asked for, forever.
    await start();
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const squatter = newIdentity();
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) {
      const { client, answer } = await attacker.login(`squat${i}`, squatter);
      answers.push(answer.type === 'welcome' ? 'welcome' : String(answer.code));
      client.close();
    }
    const bound = answers.filter((a) => a === 'welcome').length;
    expect(bound).toBeLessThanOrEqual(5);
    expect(answers.slice(bound).every((a) => a === 'E_NAME_QUOTA')).toBe(true);
    const { answer } = await attacker.login('alice', squatter);
    expect(answer.code).toBe('E_NAME_QUOTA');
    expect(
      (await loginV2(t, 'alice', newIdentity(), { localAddress: VICTIM })).socket.destroyed,
    ).toBe(false);
    // Its old names keep working for it.
    expect((await attacker.login('squat0', squatter)).answer.type).toBe('welcome');
    await pair.stop();
  });

  it('attack 5: many identities from one address are capped too, v1 names included', async () => {
    await start({ newNamesPerAddress: 6 });
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { client, answer } = await attacker.login(`many${i}`);
      outcomes.push(answer.type === 'welcome' ? 'ok' : String(answer.code));
      client.close();
    }
    for (let i = 0; i < 4; i++) {
      const client = await attacker.connect();
      client.send({ type: 'hello', user: `legacy${i}`, pub: randomBytes(32).toString('base64') });
      const answer = await client.next((f) => f.type === 'welcome' || f.type === 'error');
      outcomes.push(answer.type === 'welcome' ? 'ok' : String(answer.code));
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'E_NAME_QUOTA', 'E_NAME_QUOTA']);
    // Another address is not affected.
    await loginV2(t, 'neighbour', newIdentity(), { localAddress: VICTIM });
  });

  it('attack 5: names unused after their first day expire after a week; names used on two days last a year', async () => {
    await start();
    const squatter = newIdentity();
    const regular = newIdentity();
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    await goOffline(t, (await attacker.login('carol', squatter)).client, 'carol');
    await visit(t, 'dave', regular, { localAddress: VICTIM });
    clock.now += DAY + HOUR;
    await visit(t, 'dave', regular, { localAddress: VICTIM });

    clock.now += 7 * DAY;
    await t.server.sweep();
    // carol was never used after its first day: free again.
    expect((await helloV2(t, 'carol', newIdentity(), { localAddress: VICTIM })).answer.type).toBe(
      'welcome',
    );
    // dave was used on two days: still his a good part of a year later.
    clock.now += 300 * DAY;
    await t.server.sweep();
    const { answer } = await helloV2(t, 'dave', newIdentity(), { localAddress: GOOD });
    expect(answer.code).toBe('E_NAME_BOUND');
    expect((await helloV2(t, 'dave', regular, { localAddress: VICTIM })).answer.type).toBe(
      'welcome',
    );
  });

  it('v1 sessions get an idle timeout of at least an hour (seed clients never ping)', async () => {
    // Failed on the old code: a v1 session that never said anything stayed forever.
    await start({ idleTimeoutMs: 5 * 60_000 });
    const seed = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'quiet' });
    clock.now += 59 * 60_000; // far past the v2 idle timeout, under an hour
    await t.server.sweep();
    await barrier(seed); // still served
    clock.now += 60 * 60_000 + 1;
    await t.server.sweep();
    expect((await seed.error('E_IDLE_TIMEOUT')).code).toBe('E_IDLE_TIMEOUT');
    await seed.closed;
  });
});
