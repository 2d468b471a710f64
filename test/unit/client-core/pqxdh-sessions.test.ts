import { describe, expect, it } from 'vitest';
import { PrekeyPublisher } from '../../../src/client/e2ee/prekey-publisher.js';
import {
  type BundleFrame,
  decodeHeader,
  fromBase64,
  SIGNED_PREKEY_RETENTION_MS,
  SIGNED_PREKEY_ROTATION_MS,
} from '../../../src/protocol/index.js';
import { bundleFor, type Clock, openSide, relay, reopen, type Side } from './state-fixtures.js';

/** The bundle of a `pq` owner: one of its one-time KEM prekeys, or its last resort. */
function pqBundle(side: Side, oneTime = true): BundleFrame {
  const kem = side.state.kemPrekeys;
  const key = oneTime ? kem.newOneTime(1)[0]! : { ...kem.lastResort, last: true as const };
  return { ...bundleFor(side), kem: key, caps: ['ratchet', 'spk', 'random-nonce', 'pq'] };
}

async function firstMessage(from: Side, bundle: BundleFrame, text: string, requirePq = false) {
  from.bundles.push(bundle);
  const sealed = await from.peers.seal(bundle.user, text, { requirePq });
  return { relay: relay(sealed.envelope), sealed };
}

describe('PQXDH sessions between clients', () => {
  it('a first message through a one-time KEM prekey opens once, marked pq; the key is then gone', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    const bundle = pqBundle(bob);
    const { relay: first, sealed } = await firstMessage(alice, bundle, 'hello, post-quantum bob');
    expect(sealed.pq).toBe(true);
    const header = decodeHeader(fromBase64(first.header!, 'header'));
    expect(header.init?.kem?.id).toBe(bundle.kem!.id);
    expect(bob.state.kemPrekeys.keyPair(bundle.kem!.id)).toBeDefined();
    expect(bob.peers.open(first, [])).toMatchObject({
      ok: true,
      pq: true,
      text: 'hello, post-quantum bob',
    });
    expect(bob.state.kemPrekeys.keyPair(bundle.kem!.id)).toBeUndefined();
    // The same init again (a replay by the server): nothing opens twice.
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: false, duplicate: true });
  });

  it('the last-resort KEM prekey serves many initiators, each session separate', async () => {
    const bob = openSide('bob');
    const texts: string[] = [];
    for (const name of ['alice', 'carol', 'dave']) {
      const { relay: first } = await firstMessage(
        openSide(name),
        pqBundle(bob, false),
        `from ${name}`,
      );
      const opened = bob.peers.open(first, []);
      expect(opened).toMatchObject({ ok: true, pq: true });
      if (opened.ok) texts.push(opened.text);
    }
    expect(texts).toEqual(['from alice', 'from carol', 'from dave']);
  });

  it('out-of-order first messages: the second init arrives first, both open', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    alice.bundles.push(pqBundle(bob));
    const one = relay((await alice.peers.seal('bob', 'one')).envelope);
    const two = relay((await alice.peers.seal('bob', 'two', { trusted: bob.idk })).envelope);
    expect(decodeHeader(fromBase64(two.header!, 'h')).init?.kem).toBeDefined();
    expect(bob.peers.open(two, [])).toMatchObject({ ok: true, text: 'two', pq: true });
    expect(bob.peers.open(one, [alice.idk])).toMatchObject({ ok: true, text: 'one', pq: true });
  });

  it('a stored first message opens after a restart, and after a rotation within the retention', async () => {
    const clock: Clock = { now: 1_800_000_000_000 };
    let bob = openSide('bob', { clock });
    const lastResort = pqBundle(bob, false);
    const oneTime = pqBundle(bob, true);
    const a = await firstMessage(
      openSide('alice', { clock }),
      lastResort,
      'stored for you (last resort)',
    );
    const c = await firstMessage(
      openSide('carol', { clock }),
      oneTime,
      'stored for you (one-time)',
    );
    bob = reopen(bob);
    clock.now += SIGNED_PREKEY_ROTATION_MS + 1;
    expect(bob.peers.maintain().rotated).toBe(true);
    expect(bob.state.kemPrekeys.lastResort.id).not.toBe(lastResort.kem!.id);
    expect(bob.peers.open(a.relay, [])).toMatchObject({ ok: true, pq: true });
    expect(bob.peers.open(c.relay, [])).toMatchObject({ ok: true, pq: true });
    // After the retention the old last-resort secret is gone: a late init is refused.
    const late = await firstMessage(openSide('erin', { clock }), lastResort, 'too late');
    clock.now += SIGNED_PREKEY_RETENTION_MS;
    bob.peers.maintain();
    expect(bob.peers.open(late.relay, [])).toMatchObject({
      ok: false,
      code: 'E_RATCHET_UNKNOWN_PREKEY',
    });
  });

  it('seen with pq: a bundle without a KEM prekey is refused, and nothing is sent', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    alice.bundles.push(bundleFor(bob));
    await expect(alice.peers.seal('bob', 'secret', { requirePq: true })).rejects.toThrow(
      /post-quantum session setup \(pq\).*no KEM prekey/,
    );
    expect(alice.peers.hasSession(bob.idk)).toBe(false);
  });

  it('seen with pq: a KEM prekey with a bad signature (or a one-time key passed off as last resort) is refused', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    const good = pqBundle(bob);
    alice.bundles.push({ ...good, kem: { ...good.kem!, last: true } });
    await expect(alice.peers.seal('bob', 'x', { requirePq: true })).rejects.toThrow(/not signed/);
    const other = pqBundle(openSide('mallory'));
    alice.bundles.push({ ...good, kem: other.kem! });
    await expect(alice.peers.seal('bob', 'x', { requirePq: true })).rejects.toThrow(/not signed/);
  });

  it('seen with pq: a new session without PQXDH is refused on receipt, no plaintext', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    const { relay: first } = await firstMessage(alice, bundleFor(bob), 'downgraded hello');
    const refused = bob.peers.open(first, [alice.idk], { requirePq: true });
    expect(refused).toMatchObject({ ok: false, code: 'E_BAD_KEY' });
    expect(JSON.stringify(refused)).not.toContain('downgraded hello');
    expect(bob.peers.hasSession(alice.idk)).toBe(false);
    // The same message from a peer never seen with pq opens (and is not marked pq).
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true, pq: false });
  });

  it('an X3DH session from before the upgrade keeps working; once the peer is seen with pq it is replaced by PQXDH', async () => {
    const alice = openSide('alice');
    const bob = openSide('bob');
    const { relay: first } = await firstMessage(alice, bundleFor(bob), 'old style');
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true, pq: false });
    const reply = relay(
      (await bob.peers.seal('alice', 'still fine', { trusted: alice.idk })).envelope,
    );
    expect(alice.peers.open(reply, [bob.idk])).toMatchObject({ ok: true, pq: false });
    // bob now announces pq: alice's next message starts a PQXDH session.
    alice.bundles.push(pqBundle(bob));
    const upgraded = await alice.peers.seal('bob', 'now quantum-safe', {
      trusted: bob.idk,
      requirePq: true,
    });
    expect(upgraded).toMatchObject({ started: true, pq: true });
    expect(
      bob.peers.open(relay(upgraded.envelope), [alice.idk], { requirePq: true }),
    ).toMatchObject({
      ok: true,
      pq: true,
      text: 'now quantum-safe',
    });
  });

  it('a state written before PQXDH (schema 1, no KEM prekeys) loads: its X3DH session goes on, KEM prekeys are made', async () => {
    const alice = openSide('alice');
    let bob = openSide('bob');
    const { relay: first } = await firstMessage(alice, bundleFor(bob), 'before the upgrade');
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true, pq: false });
    // Back to the schema of the previous release: no kem_prekey table.
    bob.state.db.db.exec('DROP TABLE kem_prekey');
    bob.state.db.db.pragma('user_version = 1');
    bob = reopen(bob);
    expect(bob.state.db.db.pragma('user_version', { simple: true })).toBe(3);
    expect(bob.state.kemPrekeys.lastResort.id).toBeGreaterThanOrEqual(0x80000000);
    const next = relay((await alice.peers.seal('bob', 'after it', { trusted: bob.idk })).envelope);
    expect(bob.peers.open(next, [alice.idk])).toMatchObject({
      ok: true,
      text: 'after it',
      pq: false,
    });
  });

  it('publishes KEM prekeys at most 25 per frame, one frame per count up to 50, and the last resort when the server lacks it', () => {
    const bob = openSide('bob');
    const publisher = new PrekeyPublisher(bob.peers);
    const current = bob.state.prekeys.current;
    const spk = { id: current.id, created: current.created };
    const kemFramesOf = (plan: { frames: Array<Record<string, unknown>> }) =>
      plan.frames.filter((f) => f.kem !== undefined || f.kemlr !== undefined);
    const plan = publisher.onCount({ type: 'prekeys', stored: 100, spk, kem: 0 }, true, true);
    const kemFrames = kemFramesOf(plan);
    expect(kemFrames.map((f) => (f.kem as unknown[] | undefined)?.length ?? 0)).toEqual([25]);
    expect(kemFrames[0]!.kemlr).toMatchObject({ id: bob.state.kemPrekeys.lastResort.id });
    expect(JSON.stringify(kemFrames[0]).length).toBeLessThan(60 * 1024);
    // The answers to the uploads still on the way are stale (the first answers the X25519
    // batch and still says kem 0): no second batch is made on them.
    for (let i = 1; i < plan.frames.length; i++) {
      const stale = publisher.onCount({ type: 'prekeys', stored: 100, spk, kem: 0 }, true, true);
      expect(kemFramesOf(stale)).toEqual([]);
    }
    expect(bob.state.kemPrekeys.oneTimeCount).toBe(25);
    // The answer to the KEM upload: 25 stored, so 25 more.
    const lr0 = bob.state.kemPrekeys.lastResort;
    const head = { id: lr0.id, created: lr0.created };
    const next = publisher.onCount(
      { type: 'prekeys', stored: 100, spk, kem: 25, kemlr: head },
      true,
      true,
    );
    expect(kemFramesOf(next).map((f) => (f.kem as unknown[]).length)).toEqual([25]);
    expect(kemFramesOf(next)[0]!.kemlr).toBeUndefined();
    expect(bob.state.kemPrekeys.oneTimeCount).toBe(50);
    // Stocked, and the server hands out the current last resort: nothing more.
    const lr = bob.state.kemPrekeys.lastResort;
    const quiet = publisher.onCount(
      { type: 'prekeys', stored: 100, spk, kem: 50, kemlr: { id: lr.id, created: lr.created } },
      true,
      true,
    );
    expect(quiet.frames.filter((f) => f.kem !== undefined || f.kemlr !== undefined)).toEqual([]);
    // A server without pq gets no KEM frames whatever it claims.
    const noPq = new PrekeyPublisher(openSide('carol').peers).onCount(
      { type: 'prekeys', stored: 100, kem: 0 },
      true,
      false,
    );
    expect(noPq.frames.filter((f) => f.kem !== undefined || f.kemlr !== undefined)).toEqual([]);
    // False counts get at most the hourly allowance (100), whatever the server says.
    let made = 0;
    for (let i = 0; i < 10; i++) {
      const frames = publisher.onCount(
        { type: 'prekeys', stored: 100, spk, kem: 0 },
        true,
        true,
      ).frames;
      for (const f of frames) made += (f.kem as unknown[] | undefined)?.length ?? 0;
    }
    expect(made).toBeLessThanOrEqual(50);
  });
});
