import { describe, expect, it } from 'vitest';
import { deriveV1Key, fromBase64, sealV1 } from '../../src/protocol/index.js';
import {
  type Event,
  homeDir,
  incoming,
  knows,
  scenarioPerTest,
} from '../helpers/hostile/scenario.js';

/**
 * Issue 11, attacks 1, 5 (direct part) and 6: a hostile server lies in the directory. Trust
 * has a floor: what a name was seen with (identity, ratchet) and what the server offered
 * cannot be lowered by the server's word; the client blocks both directions until the user
 * accepts, and says what is lost. The server never obtains plaintext.
 */
const trustAlert = (user: string, code: string) => (e: Event) =>
  e.kind === 'trust' && e.user === user && e.code === code;

// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('hostile server: the directory cannot lower trust', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  it('a known v2 peer re-listed as v1 with a server key is a downgrade: blocked both ways until /trust', async () => {
    const scenario = await start();
    const { server } = scenario;
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    alice.send('/verify bob');

    server.lie('alice', 'bob', server.attacker.v1Entry());
    server.pushPresence('alice', 'bob');
    await scenario.handled('alice', alice);
    const secret = 'pay 10 EUR to the usual account';
    alice.send(`/to bob ${secret}`);
    const outcome = await scenario.settled('alice', alice, secret);
    expect(server.attacker.read(secret)).toBe(false);
    expect(outcome.kind).toBe('error');
    const alert = alice.events.find(trustAlert('bob', 'E_DOWNGRADE'))!;
    expect(alert.lost).toEqual([
      'identity',
      'forward secrecy',
      'rotating signed prekeys',
      'post-quantum session setup',
    ]);
    expect(String(alert.text)).toMatch(/no identity, no forward secrecy/);

    // The server writes "as bob" with its own v1 key: withheld, not shown as bob's.
    const alicePub = fromBase64(String(server.client('alice')!.entry.pub), 'pub', 32);
    const forged = sealV1(deriveV1Key(server.attacker.x25519.secretKey, alicePub), 'it is me, bob');
    server.inject('alice', { type: 'relay', from: 'bob', to: 'alice', ...forged, id: 'f-1' });
    await scenario.handled('alice', alice);
    expect(alice.events.some(incoming('bob', 'it is me, bob'))).toBe(false);

    // Accepting after checking records the lower floor and releases what was held.
    alice.send('/trust bob');
    const accepted = await alice.waitFor(
      (e) => e.kind === 'info' && /accepted unauthenticated v1 for bob/.test(String(e.text)),
    );
    expect(String(accepted.text)).toMatch(/no identity, no forward secrecy/);
    const released = await alice.waitFor(incoming('bob', 'it is me, bob'));
    expect(released.keyStatus).toBe('legacy');
  });

  it('ratchet dropped from a known peer is a downgrade (no forward secrecy): not sent', async () => {
    const scenario = await start();
    const { server } = scenario;
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    const honest = server.client('bob')!.entry;
    server.lie('alice', 'bob', {
      ...honest,
      caps: (honest.caps ?? []).filter((c) => c !== 'ratchet'),
    });
    server.pushPresence('alice', 'bob');
    await scenario.handled('alice', alice);
    alice.send('/to bob not without forward secrecy');
    const outcome = await scenario.settled('alice', alice, 'not without forward secrecy');
    expect(server.relaysFrom('alice').filter((r) => r.alg === 'X25519+AESGCM')).toEqual([]);
    expect(outcome.kind).toBe('error');
    // Signed prekeys go with the ratchet.
    expect(alice.events.find(trustAlert('bob', 'E_DOWNGRADE'))?.lost).toEqual([
      'forward secrecy',
      'rotating signed prekeys',
      'post-quantum session setup',
    ]);
  });

  it('ratchet dropped from the welcome is a server downgrade: loud, and blocks peers who had it', async () => {
    const scenario = await start();
    const { server } = scenario;
    const aliceHome = homeDir('alice');
    let alice = scenario.connect('alice', aliceHome);
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    expect(await alice.end()).toBe(0);

    server.caps = server.caps.filter((c) => c !== 'ratchet');
    alice = scenario.connect('alice', aliceHome);
    await alice.waitFor(knows('bob'));
    alice.send('/to bob forward secrecy is off for everyone');
    const outcome = await scenario.settled('alice', alice, 'forward secrecy is off for everyone');
    expect(server.relaysFrom('alice').filter((r) => r.alg === 'X25519+AESGCM')).toEqual([]);
    expect(outcome.kind).toBe('error');
    const serverAlert = alice.events.find(
      (e) => e.kind === 'trust' && e.user === undefined && e.code === 'E_SERVER_DOWNGRADE',
    );
    expect(serverAlert?.lost).toEqual(['forward secrecy']);
    expect(alice.events.some(trustAlert('bob', 'E_DOWNGRADE'))).toBe(true);

    // One explicit decision for the server; bob is usable again (without forward secrecy).
    alice.send('/trust --server');
    await alice.waitFor((e) => e.kind === 'info' && /without forward secrecy/.test(String(e.text)));
    const mark = alice.events.length;
    alice.send('/to bob accepted knowingly');
    const sent = await scenario.settled('alice', alice, 'accepted knowingly', mark);
    expect(sent.kind).toBe('delivery');
    expect(server.attacker.read('accepted knowingly')).toBe(false);
  });

  it('another identity for a known name: nothing is sent, and what it sends is not shown', async () => {
    const scenario = await start();
    const { server } = scenario;
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    server.lie('alice', 'bob', server.attacker.v2Entry());
    server.pushPresence('alice', 'bob');
    await scenario.handled('alice', alice);
    alice.send('/to bob are you still you');
    expect((await scenario.settled('alice', alice, 'are you still you')).kind).toBe('error');

    const aliceEntry = server.client('alice')!.entry;
    const forged = server.attacker.initiate(
      { idk: aliceEntry.idk!, pub: aliceEntry.pub, sig: aliceEntry.sig! },
      JSON.stringify({ t: 'text', text: 'send the code to this number' }),
    );
    server.inject('alice', { type: 'relay', from: 'bob', to: 'alice', ...forged, id: 'f-2' });
    await scenario.handled('alice', alice);
    expect(alice.events.some(incoming('bob', 'send the code to this number'))).toBe(false);
    expect(server.attacker.plaintexts.filter((t) => t.includes('still you'))).toEqual([]);
    expect(alice.events.some(trustAlert('bob', 'E_KEY_CHANGED'))).toBe(true);
  });

  it('notes to self use your own key, whatever the directory lists for your name', async () => {
    const scenario = await start();
    const { server } = scenario;
    server.lie('alice', 'alice', server.attacker.v1Entry());
    const alice = scenario.connect('alice');
    await alice.waitFor(knows('alice'));
    alice.send('/to alice my recovery code is 1234');
    await scenario.settled('alice', alice, 'my recovery code is 1234');
    expect(server.attacker.read('my recovery code')).toBe(false);
    await alice.waitFor(incoming('alice', 'my recovery code is 1234'));
    // The lie itself is reported: someone may be talking to the server's key as "alice".
    expect(alice.events.some(trustAlert('alice', 'E_KEY_CHANGED'))).toBe(true);
  });
});
