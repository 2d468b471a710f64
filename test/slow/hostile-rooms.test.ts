import { describe, expect, it } from 'vitest';
import type { JsonClient } from '../helpers/cli.js';
import {
  type Event,
  incoming,
  type Scenario,
  scenarioPerTest,
} from '../helpers/hostile/scenario.js';
import type { HostileServer } from '../helpers/hostile/server.js';

/**
 * Issue 11, attacks 4 and 5: a hostile server edits room member lists and lets a changed
 * identity speak in a room. Every change to a member list is shown before any key goes to
 * a new member, a vanished member makes us rotate our key, and sender keys from identities
 * that are not in good standing are refused.
 */
const roomEvent = (event: string, user: string) => (e: Event) =>
  e.kind === 'room' && e.event === event && e.user === user;

async function joinClub(client: JsonClient): Promise<void> {
  client.send('/join #club');
  await client.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#club');
}

/** alice and bob have met and are both in #club, as alice sees it. */
async function inClub(scenario: Scenario): Promise<{ alice: JsonClient; bob: JsonClient }> {
  const alice = scenario.connect('alice');
  const bob = scenario.connect('bob');
  await scenario.converse(alice, bob);
  await joinClub(alice);
  await joinClub(bob);
  await alice.waitFor(roomEvent('join', 'bob'));
  return { alice, bob };
}

/** The server's own identity, "eve", shown to alice in the directory and in #club. */
function showEve(server: HostileServer): void {
  server.lie('alice', 'eve', server.attacker.v2Entry());
  server.rooms.addGhost('alice', '#club', 'eve', server.attacker.v2Entry());
}

// Several real clients per test on a shared 2-core machine: generous, bounded.
describe('hostile server: room membership is what the members see', { timeout: 60_000 }, () => {
  const start = scenarioPerTest();

  it('a ghost member added by an unrequested snapshot is shown as a join before any key goes to it', async () => {
    const scenario = await start();
    const { server } = scenario;
    const { alice, bob } = await inClub(scenario);
    alice.send('/to #club before the ghost');
    await bob.waitFor(incoming('alice', 'before the ghost'));

    showEve(server);
    server.rooms.pushSnapshot('alice', '#club');
    await scenario.handled('alice', alice);
    alice.send('/to #club after the ghost');
    await bob.waitFor(incoming('alice', 'after the ghost'));
    const shownAt = alice.events.findIndex(roomEvent('join', 'eve'));
    const sentAt = alice.events.findIndex(
      (e) => e.kind === 'message' && e.direction === 'out' && e.text === 'after the ghost',
    );
    expect(shownAt).toBeGreaterThan(-1);
    expect(shownAt).toBeLessThan(sentAt);
    expect(server.attacker.read('before the ghost')).toBe(false);
  });

  it('a member removed silently makes our key rotate: the hidden member reads nothing new', async () => {
    const scenario = await start();
    const { server } = scenario;
    // eve (the server's identity) is a member alice can see, and gets her key.
    showEve(server);
    const { alice, bob } = await inClub(scenario);
    alice.send('/to #club everyone can see eve');
    await bob.waitFor(incoming('alice', 'everyone can see eve'));
    await scenario.sent('alice', alice);
    expect(server.attacker.read('everyone can see eve')).toBe(true);

    // The server drops eve from alice's view but keeps forwarding to her.
    server.rooms.removeGhost('alice', '#club', 'eve');
    server.rooms.pushSnapshot('alice', '#club');
    await scenario.handled('alice', alice);
    alice.send('/to #club eve is gone');
    await bob.waitFor(incoming('alice', 'eve is gone'));
    await scenario.sent('alice', alice);
    expect(server.attacker.read('eve is gone')).toBe(false);
    expect(alice.events.some(roomEvent('part', 'eve'))).toBe(true);
  });

  it('room lines carry key status; a changed identity cannot hand out a sender key', async () => {
    const scenario = await start();
    const { server } = scenario;
    const { alice, bob } = await inClub(scenario);
    bob.send('/to #club genuine bob');
    const genuine = await alice.waitFor(incoming('bob', 'genuine bob'));
    expect(genuine.keyStatus).toBe('known');
    expect(genuine.fingerprint).toMatch(/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/);

    // The server gives bob's name its own identity, in the directory and in the room.
    server.lie('alice', 'bob', server.attacker.v2Entry());
    server.pushPresence('alice', 'bob');
    server.inject('alice', {
      type: 'room',
      event: 'join',
      room: '#club',
      user: 'bob',
      peer: server.attacker.v2Entry(),
    });
    const { key, content } = server.attacker.senderKey('#club');
    const aliceEntry = server.client('alice')!.entry;
    const envelope = server.attacker.initiate(
      { idk: aliceEntry.idk!, pub: aliceEntry.pub, sig: aliceEntry.sig! },
      content,
    );
    server.inject('alice', { type: 'relay', from: 'bob', to: 'alice', ...envelope });
    server.inject('alice', server.attacker.roomMessage(key, '#club', 'bob', 'forged room line'));
    await scenario.handled('alice', alice);
    expect(alice.events.some(incoming('bob', 'forged room line'))).toBe(false);
    alice.send('/to #club does bob still read this');
    await scenario.sent('alice', alice);
    expect(server.attacker.read('does bob still read this')).toBe(false);
  });
});
