import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Attacker, barrier, ChattingPair, loginV2 } from '../helpers/hostile.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

const GOOD = '127.0.0.2';
const EVIL = '127.0.0.9';

describe('hostile users against the logs', () => {
  let t: TestServer;
  const attackers: Attacker[] = [];
  afterEach(async () => {
    for (const attacker of attackers.splice(0)) attacker.closeAll();
    await t?.close();
  });

  it('attack 6: 24 connections of /server text neither flood the log nor push security events out of it', {
    timeout: 60_000,
  }, async () => {
    // Failed on the old code: every chat line was logged in full (tens of MB here), and
    // security events shared that one rotating log.
    t = await startTestServer({ logLevel: 'info', newNamesPerAddress: 100 });
    const pair = await ChattingPair.start(t, { localAddress: GOOD });
    await loginV2(t, 'alice', newIdentity(), { localAddress: GOOD });
    const attacker = new Attacker(t, EVIL);
    attackers.push(attacker);
    // An earlier security event: someone tries to take alice's name without her key.
    const thief = await attacker.connect();
    thief.send({ type: 'hello', user: 'alice', pub: randomBytes(32).toString('base64') });
    await thief.error('E_IDENTITY_REQUIRED');

    const secret = 'my password is hunter2, please keep it between us and the server';
    const text = `${secret} ${'x'.repeat(2000)}`;
    const line = `${JSON.stringify({ type: 'chat', text })}\n`;
    const floods = [];
    for (let c = 0; c < 24; c++) {
      const client = await attacker.connect();
      client.send({ type: 'hello', user: `loud${c}`, pub: randomBytes(32).toString('base64') });
      await client.next((f) => f.type === 'welcome');
      client.send(line.repeat(120));
      floods.push(client);
    }
    for (const client of floods) {
      await client.next((f) => f.type === 'server', 10_000);
      await barrier(client, 20_000).catch(() => undefined); // a flooder may be cut off
    }
    const logBytes = t.logs.lines.reduce((sum, l) => sum + l.length + 1, 0);
    expect(logBytes).toBeLessThan(1024 * 1024);
    expect(t.logs.text).not.toContain(secret);
    expect(t.logs.text).not.toContain('x'.repeat(40));
    const chatLines = t.logs.events('chat');
    expect(chatLines.length).toBeGreaterThan(0);
    expect(chatLines.length).toBeLessThan(24 * 40);
    for (const record of chatLines)
      expect(String(record.textPrefix).length).toBeLessThanOrEqual(32);

    // The security stream still holds the takeover attempt, and only security events.
    const takeover = t.securityLogs.events('name.takeover_attempt');
    expect(takeover).toHaveLength(1);
    expect(takeover[0]).toMatchObject({ user: 'alice' });
    expect(t.securityLogs.events('chat')).toEqual([]);
    await pair.stop();
  });
});
