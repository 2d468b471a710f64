import { describe, expect, it } from 'vitest';
import {
  MAX_RESETS_PER_PEER,
  RESET_INTERVAL_MS,
  ResetLimiter,
} from '../../../src/client/e2ee/session-resets.js';
import {
  type BundleFrame,
  concatBytes,
  decodeHeader,
  ed25519Sign,
  encodeHeader,
  fromBase64,
  generateIdentityKeyPair,
  type RelayFrame,
  secureRandom,
  signReset,
  toBase64,
} from '../../../src/protocol/index.js';
import {
  helloKeyBundle,
  openSide,
  pair,
  relay as relayFrame,
  type Side,
} from './state-fixtures.js';

function side(
  name: string,
  _bundleOf: () => BundleFrame,
  home?: string,
  existing?: Side['identity'],
): Side {
  return openSide(name, { ...(home ? { home } : {}), ...(existing ? { identity: existing } : {}) });
}

const unused = (): BundleFrame => {
  throw new Error('no bundle expected');
};

const relay = (envelope: {
  alg: string;
  header: string;
  nonce: string;
  cipher: string;
}): RelayFrame => relayFrame(envelope);

function flip(frame: RelayFrame): RelayFrame {
  const cipher = fromBase64(frame.cipher, 'cipher');
  cipher[0]! ^= 1;
  return { ...frame, cipher: toBase64(cipher) };
}

/** The state's generation: it moves with every write transaction. */
const snapshot = (s: Side) => s.state.db.generation;
const sessionsOf = (s: Side, peer: string) => s.state.sessions.sessions(peer);

describe('RatchetPeers: nothing unauthenticated changes state', () => {
  it('an init naming a prekey we do not hold fails, without a reset or a write', async () => {
    const { alice, bob } = pair();
    const first = await alice.peers.seal('bob', 'hi');
    expect(bob.peers.open(relay(first.envelope), [alice.idk]).ok).toBe(true);
    const before = snapshot(bob);
    const header = encodeHeader({
      dh: secureRandom(32),
      pn: 0,
      n: 0,
      init: {
        identityKey: alice.identity.identity.publicKey,
        ephemeralKey: secureRandom(32),
        signedPrekey: secureRandom(32),
      },
    });
    const forged = relay({
      alg: 'X3DH+DR+AESGCM',
      header: toBase64(header),
      nonce: toBase64(secureRandom(12)),
      cipher: toBase64(secureRandom(40)),
    });
    const result = bob.peers.open(forged, [alice.idk]);
    expect(result).toMatchObject({ ok: false, code: 'E_RATCHET_UNKNOWN_PREKEY' });
    expect(result.ok === false && result.reset).toBeUndefined();
    expect(snapshot(bob)).toBe(before);
  });

  it('an init that fails its AEAD check records nothing: the genuine one with the same ephemeral still opens', async () => {
    const { alice, bob } = pair();
    const first = relay((await alice.peers.seal('bob', 'first words')).envelope);
    const garbage = bob.peers.open(flip(first), [alice.idk]);
    expect(garbage).toMatchObject({ ok: false, code: 'E_DECRYPT_FAILED' });
    expect(garbage.ok === false && garbage.reset).toBeUndefined();
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true, text: 'first words' });
  });

  it('a first message replayed after its session is gone is recognized (seen inits persist per peer)', async () => {
    const { alice, bob } = pair();
    const first = relay((await alice.peers.seal('bob', 'pay 10 EUR')).envelope);
    expect(bob.peers.open(first, [alice.idk]).ok).toBe(true);
    bob.state.sessions.drop(sessionsOf(bob, alice.idk)[0]!);
    bob.state.db.close();
    const reloaded = side('bob', unused, bob.home, bob.identity);
    expect(reloaded.peers.open(first, [alice.idk])).toMatchObject({ ok: false, duplicate: true });
    // Inits from other identities never push alice's out.
    const init = decodeHeader(fromBase64(first.header!, 'h')).init!;
    expect(reloaded.state.replay.hasSeenInit(alice.idk, init.ephemeralKey, init.signedPrekey)).toBe(
      true,
    );
  });

  it('an init claiming an identity other than the ones we trust for the sender is refused', async () => {
    const { alice, bob } = pair();
    const first = relay((await alice.peers.seal('bob', 'hi')).envelope);
    const other = toBase64(generateIdentityKeyPair().publicKey);
    expect(bob.peers.open(first, [other])).toMatchObject({ ok: false, code: 'E_BAD_KEY' });
    expect(sessionsOf(bob, alice.idk)).toEqual([]);
  });
});

describe('RatchetPeers: resets bound to one session', () => {
  async function talking() {
    const { alice, bob } = pair();
    const m1 = relay((await alice.peers.seal('bob', 'one')).envelope);
    expect(bob.peers.open(m1, [alice.idk]).ok).toBe(true);
    const m2 = relay((await bob.peers.seal('alice', 'two', { trusted: alice.idk })).envelope);
    expect(alice.peers.open(m2, [bob.idk]).ok).toBe(true);
    return { alice, bob };
  }

  it('a message in a session we lost asks for a reset naming its ratchet key; a tampered one does not', async () => {
    const { alice, bob } = await talking();
    const m3 = relay((await alice.peers.seal('bob', 'three', { trusted: bob.idk })).envelope);
    expect(bob.peers.open(m3, [alice.idk]).ok).toBe(true);
    const m4 = relay((await alice.peers.seal('bob', 'four', { trusted: bob.idk })).envelope);
    const tampered = bob.peers.open(flip(m4), [alice.idk]);
    expect(tampered).toMatchObject({ ok: false, code: 'E_DECRYPT_FAILED' });
    expect(tampered.ok === false && tampered.reset).toBeUndefined();
    expect(bob.peers.open(m4, [alice.idk])).toMatchObject({ ok: true, text: 'four' });

    const lostBob = side('bob2', unused, undefined, bob.identity);
    const m5 = relay((await alice.peers.seal('bob', 'five', { trusted: bob.idk })).envelope);
    const lost = lostBob.peers.open(m5, [alice.idk]);
    expect(lost).toMatchObject({ ok: false, code: 'E_RATCHET_NO_SESSION' });
    const dh = decodeHeader(fromBase64(m5.header!, 'h')).dh;
    expect(lost.ok === false && toBase64(lost.reset!.ratchetKey)).toBe(toBase64(dh));
    expect(lost.ok === false && lost.reset!.peerIdentity).toBe(alice.idk);
  });

  it('a reset drops only the session it names, once; replays and older resets are ignored, also after a restart', async () => {
    const { alice, bob } = await talking();
    const now = 1_800_000_000_000;
    // A second session alice keeps with bob (as after simultaneous initiations).
    const sessionsBefore = sessionsOf(alice, bob.idk).length;
    const current = sessionsOf(alice, bob.idk)[0]!.state;
    const wrongKey = signReset(bob.identity.identity, alice.idk, secureRandom(32), now);
    expect(alice.peers.acceptReset(relay({ ...wrongKey }), [bob.idk], now)).toBe('ignored');
    const named = bob.peers.resetNotice(alice.idk, current.sendRatchet.publicKey, now)!;
    expect(
      bob.peers.resetNotice(alice.idk, current.sendRatchet.publicKey, now + 1),
    ).toBeUndefined();
    expect(alice.peers.acceptReset(relay({ ...named }), [bob.idk], now)).toBe('accepted');
    expect(sessionsOf(alice, bob.idk).length).toBe(sessionsBefore - 1);
    expect(alice.peers.acceptReset(relay({ ...named }), [bob.idk], now)).toBe('ignored');
    // Even naming a session that exists again, an older or equal time is a replay.
    alice.state.db.close();
    const restarted = side('alice', unused, alice.home, alice.identity);
    const old = signReset(bob.identity.identity, alice.idk, current.sendRatchet.publicKey, now - 1);
    expect(restarted.state.replay.lastReset(bob.idk)).toBe(now);
    expect(restarted.peers.acceptReset(relay({ ...old }), [bob.idk], now)).toBe('ignored');
  });

  it('resets outside the clock window, with a bad signature, or in the older unbound form are ignored', async () => {
    const { alice, bob } = await talking();
    const key = sessionsOf(alice, bob.idk)[0]!.state.sendRatchet.publicKey;
    const now = 1_800_000_000_000;
    const late = signReset(bob.identity.identity, alice.idk, key, now - 11 * 60_000);
    expect(alice.peers.acceptReset(relay({ ...late }), [bob.idk], now)).toBe('ignored');
    const forged = signReset(generateIdentityKeyPair(), alice.idk, key, now);
    expect(alice.peers.acceptReset(relay({ ...forged }), [bob.idk], now)).toBe('ignored');
    const time = new Uint8Array(8);
    new DataView(time.buffer).setBigUint64(0, BigInt(now));
    const legacy = concatBytes(time, ed25519Sign(bob.identity.identity.secretKey, time));
    expect(
      alice.peers.acceptReset(
        relay({ alg: 'X3DH+DR+RESET', header: toBase64(legacy), nonce: '', cipher: '' }),
        [bob.idk],
        now,
      ),
    ).toBe('legacy');
    expect(sessionsOf(alice, bob.idk).length).toBeGreaterThan(0);
  });

  it('the limiter allows one reset per session per hour and a few per peer', () => {
    const limiter = new ResetLimiter();
    const key = secureRandom(32);
    expect(limiter.allow('P', key, 0)).toBe(true);
    expect(limiter.allow('P', key, RESET_INTERVAL_MS - 1)).toBe(false);
    expect(limiter.allow('P', key, RESET_INTERVAL_MS)).toBe(true);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (limiter.allow('Q', secureRandom(32), 5)) allowed++;
    expect(allowed).toBe(MAX_RESETS_PER_PEER);
  });
});

describe('RatchetPeers: signed prekeys', () => {
  it('an init made for the hello key (an older server or owner without spk) still opens', async () => {
    const { alice, bob } = pair(helloKeyBundle);
    const first = relay((await alice.peers.seal('bob', 'via the hello key')).envelope);
    const init = decodeHeader(fromBase64(first.header!, 'h')).init!;
    expect(toBase64(init.signedPrekey)).toBe(toBase64(bob.identity.x25519.publicKey));
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true });
  });

  it('with spk the init names the rotating signed prekey, not the hello key', async () => {
    const { alice, bob } = pair();
    const first = relay((await alice.peers.seal('bob', 'hi')).envelope);
    const init = decodeHeader(fromBase64(first.header!, 'h')).init!;
    expect(toBase64(init.signedPrekey)).toBe(toBase64(bob.state.prekeys.current.pair.publicKey));
    expect(toBase64(init.signedPrekey)).not.toBe(toBase64(bob.identity.x25519.publicKey));
    expect(bob.peers.open(first, [alice.idk])).toMatchObject({ ok: true, text: 'hi' });
  });
});
