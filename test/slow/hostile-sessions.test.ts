import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonClient } from '../helpers/cli.js';
import type { Frame } from '../helpers/hostile/attacker.js';
import {
  homeDir,
  incoming,
  isInit,
  knows,
  type Scenario,
  scenarioPerTest,
} from '../helpers/hostile/scenario.js';

/**
 * Issue 11, attacks 2 and 3: a hostile server forges session setups, forces and replays
 * resets, replays first messages and relays garbage under real ids. Nothing it sends
 * changes session state unless it authenticates; a real message is shown exactly once.
 */
const ALG_RESET = 'X3DH+DR+RESET';
const undecryptable = (from: string) => (e: Record<string, unknown>) =>
  e.kind === 'undecryptable' && e.from === from;

/** The same relay with one ciphertext byte flipped: fails its AEAD check. */
function corrupt(relay: Frame): Frame {
  const cipher = Buffer.from(String(relay.cipher), 'base64');
  cipher[0]! ^= 0x01;
  return { ...relay, cipher: cipher.toString('base64') };
}

/**
 * alice writes `text` to bob; the server sends bob a corrupted copy of that relay first
 * (same header and id), then the real one. bob must show the real one exactly once.
 */
async function garbageAhead(scenario: Scenario, alice: JsonClient, bob: JsonClient, text: string) {
  const { server } = scenario;
  server.onRelay = (from, relay) => {
    if (from.name !== 'alice') return 'forward';
    server.onRelay = undefined;
    server.deliver('alice', corrupt(relay));
    return 'forward';
  };
  alice.send(`/to bob ${text}`);
  await scenario.settled('alice', alice, text);
  await scenario.handled('bob', bob);
  expect(bob.events.filter(incoming('alice', text))).toHaveLength(1);
  expect(bob.events.some(undecryptable('alice'))).toBe(true);
}

// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('hostile server: session setup and resets', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  it('a forged init changes no state and triggers no reset: an "undecryptable" event', async () => {
    const scenario = await start();
    const { server } = scenario;
    const aliceHome = homeDir('alice');
    const alice = scenario.connect('alice', aliceHome);
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    // The state's generation witness moves with every write transaction.
    const sessionFile = join(aliceHome, 'sessions', 'alice.generation');
    const before = readFileSync(sessionFile, 'utf8');
    const bobIdk = server.client('bob')!.entry.idk!;
    const aliceSpk = server.client('alice')!.entry.pub;
    // One naming a signed prekey alice does not hold, one naming hers with garbage inside.
    for (const [i, forged] of [
      server.attacker.forgeInit(bobIdk),
      server.attacker.forgeInit(bobIdk, aliceSpk),
    ].entries()) {
      server.inject('alice', { type: 'relay', from: 'bob', to: 'alice', ...forged, id: `x-${i}` });
    }
    await scenario.handled('alice', alice);
    expect(alice.events.filter(undecryptable('bob'))).toHaveLength(2);
    await scenario.sent('alice', alice);
    expect(server.relaysFrom('alice').filter((r) => r.alg === ALG_RESET)).toEqual([]);
    expect(readFileSync(sessionFile, 'utf8')).toBe(before);
    alice.send('/to bob still the same session');
    await bob.waitFor(incoming('alice', 'still the same session'));
    expect(isInit(server.relaysFrom('alice').at(-1)!)).toBe(false);
  });

  it('a garbage copy of a first message sent ahead of it does not hide the real one', async () => {
    const scenario = await start();
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await alice.waitFor(knows('bob'));
    await garbageAhead(scenario, alice, bob, 'our first words');
    expect(isInit(scenario.server.relaysFrom('alice')[0]!)).toBe(true);
  });

  it('a garbage relay carrying a real id does not hide the real message', async () => {
    const scenario = await start();
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    await garbageAhead(scenario, alice, bob, 'the real message');
    // The garbage came with a new ratchet key, so bob may have asked for a new session
    // (a forced re-key, rate-limited); either way the conversation goes on.
    alice.send('/to bob and the next one');
    await bob.waitFor(incoming('alice', 'and the next one'));
  });

  it('a replayed reset is ignored, also after a restart', async () => {
    const scenario = await start();
    const { server } = scenario;
    const aliceHome = homeDir('alice');
    const bobHome = homeDir('bob');
    let alice = scenario.connect('alice', aliceHome);
    let bob = scenario.connect('bob', bobHome);
    await scenario.converse(alice, bob);
    expect(await bob.end()).toBe(0);
    rmSync(join(bobHome, 'sessions'), { recursive: true, force: true });
    bob = scenario.connect('bob', bobHome);
    await alice.waitFor((e) => e.kind === 'presence' && e.event === 'join' && e.user === 'bob');
    await bob.waitFor(knows('alice'));

    // A genuine reset: bob lost the session alice writes into.
    alice.send('/to bob into the void');
    await bob.waitFor((e) => e.kind === 'undecryptable' && e.code === 'E_RATCHET_NO_SESSION');
    await alice.waitFor((e) => e.kind === 'warning' && e.code === 'E_SESSION_RESET');
    const reset = server.relaysFrom('bob').find((r) => r.alg === ALG_RESET)!;
    alice.send('/to bob fresh start');
    await bob.waitFor(incoming('alice', 'fresh start'));
    bob.send('/to alice welcome back');
    await alice.waitFor(incoming('bob', 'welcome back'));

    for (let round = 0; round < 2; round++) {
      server.deliver('bob', reset);
      await scenario.handled('alice', alice);
      const text = `after replay ${round}`;
      alice.send(`/to bob ${text}`);
      await bob.waitFor(incoming('alice', text));
      expect(isInit(server.relaysFrom('alice').at(-1)!)).toBe(false);
      expect(alice.events.filter((e) => e.code === 'E_SESSION_RESET')).toHaveLength(
        round === 0 ? 1 : 0,
      );
      expect(await alice.end()).toBe(0);
      alice = scenario.connect('alice', aliceHome);
      await alice.waitFor(knows('bob'));
    }
  });

  it('a replayed first message is shown once, whatever the server floods in between', async () => {
    const scenario = await start();
    const { server } = scenario;
    server.withholdOneTimePrekeys = true;
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await alice.waitFor(knows('bob'));
    await bob.waitFor(knows('alice'));
    alice.send('/to bob pay 10 EUR');
    await bob.waitFor(incoming('alice', 'pay 10 EUR'));
    const first = server.relaysFrom('alice')[0]!;

    // Try to make alice reset bob's sessions with her: a forged init "from bob".
    const bobIdk = server.client('bob')!.entry.idk!;
    server.inject('alice', {
      type: 'relay',
      from: 'bob',
      to: 'alice',
      ...server.attacker.forgeInit(bobIdk),
    });
    await scenario.handled('alice', alice);
    await scenario.sent('alice', alice);
    await scenario.handled('bob', bob);
    // Flush any bounded memory of session setups with inits nobody can open.
    const aliceIdk = server.client('alice')!.entry.idk!;
    for (let i = 0; i < 1100; i++)
      server.inject('bob', {
        type: 'relay',
        from: 'alice',
        to: 'bob',
        ...server.attacker.forgeInit(aliceIdk),
      });
    await scenario.handled('bob', bob);
    server.deliver('alice', first, { id: 'replayed-1' });
    alice.send('/to bob barrier after the replay');
    await bob.waitFor(incoming('alice', 'barrier after the replay'), 30_000);
    expect(bob.events.filter(incoming('alice', 'pay 10 EUR'))).toHaveLength(1);
  }, 90_000);
});
