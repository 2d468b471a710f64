import { describe, expect, it } from 'vitest';
import { PrekeyPublisher } from '../../../src/client/e2ee/prekey-publisher.js';
import {
  SIGNED_PREKEY_RETENTION_MS,
  SIGNED_PREKEY_ROTATION_MS,
} from '../../../src/protocol/index.js';
import {
  bundleFor,
  type Clock,
  helloKeyBundle,
  openSide,
  relay,
  type Side,
} from './state-fixtures.js';

const DAY = 24 * 3_600_000;

/** A first message from `from` to `to` made now, from `to`'s current bundle, not delivered yet. */
async function firstMessage(from: Side, to: Side, text: string) {
  from.bundles.push(bundleFor(to));
  return relay((await from.peers.seal(to.name, text)).envelope);
}

describe('signed prekeys with a lifecycle', () => {
  it('rotate weekly on the client clock; a stored first message older than one rotation still opens; after the retention it is refused without a reset', async () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    const bob = openSide('bob', { clock });
    const first = bob.state.prekeys.current;
    const stored = await firstMessage(
      openSide('alice', { clock }),
      bob,
      'sent while you were away',
    );
    const carol = openSide('carol', { clock });
    const late = [];
    for (let i = 0; i < 20; i++)
      late.push(await firstMessage(carol, bob, `stored even longer ${i}`));

    clock.now += SIGNED_PREKEY_ROTATION_MS - 1;
    expect(bob.peers.maintain().rotated).toBe(false);
    clock.now += 1 + DAY;
    expect(bob.peers.maintain().rotated).toBe(true);
    expect(bob.state.prekeys.current.id).not.toBe(first.id);
    expect(bob.state.prekeys.previous?.id).toBe(first.id);
    // Eight days old, made for the previous signed prekey: it opens.
    expect(bob.peers.open(stored, [])).toMatchObject({
      ok: true,
      text: 'sent while you were away',
    });

    // The previous secret is deleted once its retention is over (and not before).
    clock.now += SIGNED_PREKEY_RETENTION_MS - 1;
    bob.peers.maintain();
    expect(bob.state.prekeys.previous?.id).toBe(first.id);
    clock.now += 1;
    bob.peers.maintain();
    expect(bob.state.prekeys.previous?.id).not.toBe(first.id);
    expect(bob.state.prekeys.signedPrekeyFor(first.pair.publicKey)).toBeUndefined();
    // Twenty of them (a server replaying or delaying first messages): each refused, none
    // answered with a reset, nothing written.
    const before = bob.state.db.generation;
    for (const message of late) {
      const refused = bob.peers.open(message, [carol.idk]);
      expect(refused).toMatchObject({ ok: false, code: 'E_RATCHET_UNKNOWN_PREKEY' });
      expect(refused.ok === false && refused.reset).toBeUndefined();
    }
    expect(bob.state.db.generation).toBe(before);
  });

  it('the server cannot make the client rotate, nor keep an old key alive', async () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    const bob = openSide('bob', { clock });
    const publisher = new PrekeyPublisher(bob.peers);
    publisher.onCount({ type: 'prekeys', stored: 0 }, true); // stocked: 100 one-time prekeys
    const current = bob.state.prekeys.current;
    // Counts naming another (older, or unknown but not newer) signed prekey: uploads only.
    for (const spk of [
      { id: current.id ^ 1, created: current.created - 1 },
      { id: current.id ^ 2, created: 0 },
      undefined,
    ]) {
      const plan = publisher.onCount(
        { type: 'prekeys', stored: 100, ...(spk ? { spk } : {}) },
        true,
      );
      expect(plan.restored).toBeUndefined();
      expect(plan.frames).toEqual([{ type: 'prekeys', keys: [], spk: bob.state.prekeys.upload() }]);
    }
    expect(bob.state.prekeys.current.id).toBe(current.id);
    // Naming one newer than ours: our state is older than one we published (or the server
    // lies). Handled once per run: new sessions and a new signed prekey, never more.
    const newer = { id: current.id ^ 3, created: current.created + 1 };
    expect(publisher.onCount({ type: 'prekeys', stored: 100, spk: newer }, true).restored).toBe(
      true,
    );
    const rotated = bob.state.prekeys.current;
    expect(rotated.id).not.toBe(current.id);
    expect(
      publisher.onCount({ type: 'prekeys', stored: 100, spk: newer }, true).restored,
    ).toBeUndefined();
    expect(bob.state.prekeys.current.id).toBe(rotated.id);

    // An initiator refuses a signed prekey kept alive past any owner's rotation schedule.
    const alice = openSide('alice', { clock });
    const old = bundleFor(bob);
    clock.now += 46 * DAY;
    alice.bundles.push(old);
    await expect(alice.peers.seal('bob', 'hi')).rejects.toThrow(/46 days old/);
    // ... and one whose signature does not cover its id and age.
    const forged = bundleFor(bob);
    alice.bundles.push({ ...forged, spk: { ...forged.spk!, created: clock.now } });
    await expect(alice.peers.seal('bob', 'hi')).rejects.toThrow(/not signed/);
  });

  it('a peer seen with rotating signed prekeys cannot be downgraded to its hello key', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    alice.bundles.push(helloKeyBundle(bob));
    await expect(alice.peers.seal('bob', 'hi', { requireSignedPrekey: true })).rejects.toThrow(
      /seen with rotating signed prekeys/,
    );
    alice.bundles.push(helloKeyBundle(bob));
    const compat = await alice.peers.seal('bob', 'hi');
    expect(bob.peers.open(relay(compat.envelope), [alice.idk])).toMatchObject({ ok: true });
  });
});
