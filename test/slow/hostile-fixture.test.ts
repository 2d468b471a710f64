import { describe, expect, it } from 'vitest';
import { incoming, knows, scenarioPerTest } from '../helpers/hostile/scenario.js';

/**
 * The hostile server fixture itself: as long as it behaves, real clients chat through it
 * (ratchet, rooms) and its attacker reads nothing. The attack tests build on this.
 */
// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('hostile server fixture, behaving honestly', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  it('carries ratchet messages and room messages between real clients, reading none', async () => {
    const scenario = await start();
    const alice = scenario.connect('alice');
    const bob = scenario.connect('bob');
    await scenario.converse(alice, bob);
    alice.send('/join #club');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'joined');
    bob.send('/join #club');
    await bob.waitFor((e) => e.kind === 'room' && e.event === 'joined');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'join' && e.user === 'bob');
    alice.send('/to #club secret room line');
    const line = await bob.waitFor(incoming('alice', 'secret room line'));
    expect(line.protection).toBe('e2ee-room');
    expect(scenario.server.attacker.plaintexts).toEqual([]);
  });

  it('reads v1 envelopes made for a key it listed (the attacker works)', async () => {
    const scenario = await start();
    const { server } = scenario;
    server.lie('alice', 'mallory', server.attacker.v1Entry());
    const alice = scenario.connect('alice');
    await alice.waitFor(knows('mallory'));
    alice.send('/to mallory readable by the server');
    await scenario.settled('alice', alice, 'readable by the server');
    expect(server.attacker.read('readable by the server')).toBe(true);
  });

  it('reads ratchet messages to an identity it owns, and room messages once it holds a key', async () => {
    const scenario = await start();
    const { server } = scenario;
    server.lie('alice', 'eve', server.attacker.v2Entry());
    server.rooms.addGhost('alice', '#club', 'eve', server.attacker.v2Entry());
    const alice = scenario.connect('alice');
    await alice.waitFor(knows('eve'));
    alice.send('/to eve forward secret but to the wrong person');
    await scenario.settled('alice', alice, 'forward secret but to the wrong person');
    expect(server.attacker.read('forward secret but to the wrong person')).toBe(true);
    alice.send('/join #club');
    await alice.waitFor((e) => e.kind === 'room' && e.event === 'joined');
    alice.send('/to #club the room is not private');
    await scenario.sent('alice', alice);
    await server.waitForFrame('alice', (f) => f.type === 'roommsg');
    expect(server.attacker.read('the room is not private')).toBe(true);
  });
});
