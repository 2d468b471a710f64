import { describe, expect, it } from 'vitest';
import {
  ONE_TIME_PREKEY_TARGET,
  PrekeyPublisher,
} from '../../../src/client/e2ee/prekey-publisher.js';
import type { RelayFrame } from '../../../src/protocol/index.js';
import { bundleFor, type Clock, openSide, relay, reopen, type Side } from './state-fixtures.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `count` messages from `from` to `to`; only the last is delivered (the rest are skipped). */
async function skipping(from: Side, to: Side, count: number, trusted?: string) {
  let last: RelayFrame | undefined;
  for (let i = 0; i < count; i++) {
    last = relay(
      (
        await from.peers.seal(to.name, `m${i}`, {
          ...(trusted ? { trusted } : {}),
          randomNonce: true,
        })
      ).envelope,
    );
    trusted = to.idk;
  }
  return last!;
}

describe('client limits: totals across all peers, first contacts evicted first', () => {
  it('throw-away identities cannot grow the sessions or skipped keys kept (first contacts go first)', async () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    const victim = openSide('victim', {
      clock,
      limits: { firstContactSessions: 3, sessions: 6, skippedKeys: 24, firstContactSkippedKeys: 8 },
    });
    // A friend the victim answered: established, not first contact.
    const friend = openSide('friend', { clock, fallback: () => bundleFor(victim) });
    const hello = relay((await friend.peers.seal('victim', 'hi')).envelope);
    expect(victim.peers.open(hello, [friend.idk], { firstContact: true })).toMatchObject({
      ok: true,
    });
    victim.bundles.push(bundleFor(friend));
    const answer = await victim.peers.seal('friend', 'hello friend', {
      trusted: friend.idk,
      randomNonce: true,
    });
    expect(friend.peers.open(relay(answer.envelope), [victim.idk])).toMatchObject({ ok: true });
    const friendSkips = await skipping(friend, victim, 11, victim.idk);
    expect(victim.peers.open(friendSkips, [friend.idk])).toMatchObject({ ok: true });

    for (let i = 0; i < 12; i++) {
      const stranger = openSide(`s${i}`, { clock, fallback: () => bundleFor(victim) });
      const message = await skipping(stranger, victim, 5);
      expect(victim.peers.open(message, [], { firstContact: true })).toMatchObject({ ok: true });
      const count = victim.state.sessions.count;
      expect(count.firstContact).toBeLessThanOrEqual(3);
      expect(count.sessions).toBeLessThanOrEqual(6);
      expect(count.skipped).toBeLessThanOrEqual(24);
      stranger.state.db.close();
    }
    // The friend kept its session and its skipped keys; the last strangers are the ones kept.
    const friendSession = victim.state.sessions.sessions(friend.idk)[0]!;
    expect(friendSession.firstContact).toBe(false);
    expect(friendSession.state.skipped).toHaveLength(10);
    const count = victim.state.sessions.count;
    expect(count).toEqual({ sessions: 4, firstContact: 3, skipped: 10 + 8 });
    // ... and the store holds no more than memory does.
    const rows = victim.state.db.db.prepare('SELECT count(*) AS n FROM skipped_key').get() as {
      n: number;
    };
    expect(rows.n).toBe(18);
  });

  it('skipped keys expire by age (30 days by default) on the client clock', async () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    const alice = openSide('alice', { clock });
    const bob = openSide('bob', { clock, fallback: () => bundleFor(alice) });
    const sent = [];
    for (let i = 0; i < 3; i++) {
      sent.push(
        relay((await bob.peers.seal('alice', `m${i}`, i ? { trusted: alice.idk } : {})).envelope),
      );
    }
    expect(alice.peers.open(sent[2]!, [bob.idk])).toMatchObject({ ok: true });
    clock.now += 29 * DAY;
    expect(alice.peers.maintain().expired).toBe(0);
    clock.now += 2 * DAY;
    expect(alice.peers.maintain().expired).toBe(2);
    expect(alice.state.sessions.count.skipped).toBe(0);
    // Gone from disk too: a restart does not bring them back.
    const restarted = reopen(alice);
    expect(restarted.state.sessions.count.skipped).toBe(0);
    expect(restarted.peers.open(sent[0]!, [bob.idk])).toMatchObject({ ok: false });
  });

  it('false "prekeys stored" counts cannot make the client create one-time prekey secrets without limit', () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    const alice = openSide('alice', { clock });
    const publisher = new PrekeyPublisher(alice.peers);
    const created = (frames: Array<Record<string, unknown>>) =>
      frames.reduce((n, f) => n + (f.keys as unknown[]).length, 0);
    let total = 0;
    // The old client made 100 new secrets for every such frame.
    for (let i = 0; i < 50; i++) {
      total += created(
        publisher.onCount({ type: 'prekeys', stored: i % 2 ? 0 : 100_000 }, true).frames,
      );
      expect(alice.state.prekeys.oneTimePrekeyCount).toBeLessThanOrEqual(400);
    }
    expect(total).toBe(200);
    clock.now += HOUR;
    for (let i = 0; i < 50; i++)
      total += created(publisher.onCount({ type: 'prekeys', stored: 0 }, true).frames);
    expect(total).toBe(400);
    clock.now += 10 * HOUR;
    for (let i = 0; i < 50; i++)
      total += created(publisher.onCount({ type: 'prekeys', stored: 0 }, true).frames);
    expect(total).toBe(600);
    expect(alice.state.prekeys.oneTimePrekeyCount).toBe(400);
    // An honest count is answered with a top-up to the target, nothing more.
    const bob = openSide('bob', { clock });
    const honest = new PrekeyPublisher(bob.peers);
    expect(created(honest.onCount({ type: 'prekeys', stored: 0 }, true).frames)).toBe(
      ONE_TIME_PREKEY_TARGET,
    );
    expect(created(honest.onCount({ type: 'prekeys', stored: 60 }, true).frames)).toBe(0);
  });
});
