import { describe, expect, it } from 'vitest';
import { fromBase64, MLKEM1024_CIPHERTEXT_BYTES } from '../../src/protocol/index.js';
import { incoming, knows, scenarioPerTest } from '../helpers/hostile/scenario.js';
import { until } from '../helpers/until.js';

/**
 * A scripted hostile server against PQXDH (real CLI clients): once carol has seen bob with
 * `pq`, a server that strips his KEM prekey from the bundle, or `pq` from his entry, gets no
 * session and no plaintext; an honest run gives a PQXDH session marked `[e2ee:pq]`.
 */
describe('PQXDH against a hostile server (real CLI)', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  /** bob is online with his KEM prekeys published; carol has seen him (with pq). */
  async function meet() {
    const scenario = await start();
    const bob = scenario.connect('bob');
    await bob.waitFor((e) => e.kind === 'users');
    expect(await until(() => scenario.server.hasKemPrekeys('bob'), 10_000)).toBe(true);
    const carol = scenario.connect('carol');
    await carol.waitFor(knows('bob'));
    await scenario.handled('carol', carol);
    return { scenario, bob, carol };
  }

  it('honest: the first message is PQXDH (a 1,568-byte KEM ciphertext in its header), shown as [e2ee:pq]', async () => {
    const { scenario, bob, carol } = await meet();
    carol.send('/to bob quantum hello');
    const got = await bob.waitFor(incoming('carol', 'quantum hello'));
    expect(got.protection).toBe('e2ee-pq');
    const [relay] = scenario.server.relaysFrom('carol');
    const header = fromBase64(String(relay!.header), 'header');
    expect(header[1]! & 0x04).toBe(0x04);
    expect(header.length).toBeGreaterThan(MLKEM1024_CIPHERTEXT_BYTES);
  });

  it('a server that strips the KEM prekey from the bundle of a peer seen with pq gets no session and no plaintext', async () => {
    const { scenario, carol } = await meet();
    scenario.server.stripKemPrekeys = true;
    const secret = 'harvest this if you can';
    carol.send(`/to bob ${secret}`);
    const outcome = await scenario.settled('carol', carol, secret);
    expect(outcome).toMatchObject({ kind: 'delivery', status: 'failed' });
    expect(String(outcome.reason)).toMatch(/post-quantum/);
    expect(scenario.server.relaysFrom('carol')).toEqual([]);
    expect(scenario.server.attacker.read(secret)).toBe(false);
  });

  it('a server that strips pq from the peer’s entry and bundle after carol saw it gets no session and no plaintext', async () => {
    const { scenario, carol } = await meet();
    scenario.server.stripPqCaps = true;
    scenario.server.stripKemPrekeys = true;
    scenario.server.pushPresence('carol', 'bob');
    await scenario.handled('carol', carol);
    const secret = 'downgrade me';
    carol.send(`/to bob ${secret}`);
    const outcome = await scenario.settled('carol', carol, secret);
    expect(['failed', undefined]).toContain(outcome.status);
    expect(JSON.stringify(outcome)).toMatch(/post-quantum/);
    expect(scenario.server.relaysFrom('carol')).toEqual([]);
    expect(scenario.server.attacker.read(secret)).toBe(false);
  });
});
