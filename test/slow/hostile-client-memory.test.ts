import { afterEach, describe, expect, it } from 'vitest';
import {
  ALG_V2,
  type BundleFrame,
  fromBase64,
  initiateSession,
  kdfChainKey,
  ratchetEncrypt,
  type SessionState,
  toBase64,
} from '../../src/protocol/index.js';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { ALL_CAPS, Attacker, barrier } from '../helpers/hostile.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity } from '../helpers/v2-hello.js';

/**
 * Issue 12, attack 4 (sessions): throw-away identities, each opening the most sessions a
 * client keeps per peer, every first message skipping hundreds of keys. Hostile users of
 * their own code (raw TLS, X3DH on the protocol core) against a real client over real TLS.
 */
describe('hostile users cannot grow a client’s sessions or skipped keys without bound', () => {
  let t: TestServer | undefined;
  let victim: TestChat | undefined;
  let attacker: Attacker | undefined;
  afterEach(async () => {
    attacker?.closeAll();
    await victim?.close();
    await t?.close();
  });

  it('a dozen throw-away identities × 4 sessions × 500 skipped keys: first-contact state stays within its caps', async () => {
    t = await startTestServer();
    victim = await startChat('victim', t.port, t.server.pin);
    attacker = new Attacker({ port: t.port, certPem: t.certPem });
    const sent: Array<Promise<unknown>> = [];
    for (let i = 0; i < 12; i++) {
      const who = newIdentity();
      const { client, answer } = await attacker.login(`throwaway${i}`, who, ALL_CAPS);
      expect(answer).toMatchObject({ type: 'welcome' });
      for (let s = 0; s < 4; s++) {
        client.send({ type: 'bundle', user: 'victim', id: `b${s}` });
        const bundle = (await client.next((f) => f.id === `b${s}`)) as unknown as BundleFrame;
        let state: SessionState = initiateSession(who.identity, {
          identityKey: fromBase64(bundle.idk, 'idk', 32),
          signedPrekey: fromBase64(bundle.pub, 'pub', 32),
          signedPrekeySignature: fromBase64(bundle.sig, 'sig', 64),
        });
        for (let k = 0; k < 500; k++) state.sendChain = kdfChainKey(state.sendChain!).chainKey;
        state.ns = 500;
        const out = ratchetEncrypt(state, new TextEncoder().encode('{"t":"text","text":"hi"}'), {
          alg: ALG_V2,
        });
        state = out.state;
        const id = `t${i}-${s}`;
        client.send({
          type: 'relay',
          to: 'victim',
          alg: out.alg,
          header: toBase64(out.header),
          nonce: toBase64(out.nonce),
          cipher: toBase64(out.ciphertext),
          id,
        });
        sent.push(client.next((f) => f.type === 'ack' && f.id === id));
      }
      await barrier(client);
    }
    await Promise.all(sent);
    // Every first message was handed to the victim's connection (acked); it opens each one.
    const shown = () => victim!.events.filter((e) => e.kind === 'message' && e.text === 'hi');
    await victim.waitFor(() => shown().length === 48, 20_000);
    const count = victim.client.ratchet!.state.sessions.count;
    expect(count.firstContact).toBeLessThanOrEqual(32);
    expect(count.sessions).toBeLessThanOrEqual(32);
    expect(count.skipped).toBeLessThanOrEqual(1000);
    const rows = victim.client
      .ratchet!.state.db.db.prepare(
        'SELECT (SELECT count(*) FROM session) AS s, (SELECT count(*) FROM skipped_key) AS k',
      )
      .get() as { s: number; k: number };
    expect(rows).toEqual({ s: count.sessions, k: count.skipped });
  });
});
