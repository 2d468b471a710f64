import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientState, loadClientState } from '../../../src/client/e2ee/client-state.js';
import type { ClientLimits } from '../../../src/client/e2ee/limits.js';
import { RatchetPeers } from '../../../src/client/e2ee/ratchet-peers.js';
import type { LocalIdentity } from '../../../src/client/identity/keystore.js';
import { StateDb } from '../../../src/client/state/state-db.js';
import {
  type BundleFrame,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  type RelayFrame,
  signPrekey,
  toBase64,
} from '../../../src/protocol/index.js';

/** A test clock: `now` moves only when a test moves it. */
export interface Clock {
  now: number;
}

/** One local identity with its state database and ratchet sessions. */
export interface Side {
  name: string;
  identity: LocalIdentity;
  state: ClientState;
  peers: RatchetPeers;
  home: string;
  idk: string;
  clock: Clock;
  /** What the fake server answers this side's bundle requests with. */
  bundles: BundleFrame[];
  limits: Partial<ClientLimits>;
  fallback: (() => BundleFrame) | undefined;
}

export function newLocalIdentity(name: string): LocalIdentity {
  return {
    name,
    identity: generateIdentityKeyPair(),
    x25519: generateX25519KeyPair(),
    createdAt: 0,
    path: '',
    encrypted: false,
  };
}

/**
 * Opens a side (its state locked, as a client would). `bundles` are handed out in order;
 * when empty, `fallback` answers (a live view of another side, usually).
 */
export function openSide(
  name: string,
  options: {
    home?: string;
    identity?: LocalIdentity;
    clock?: Clock;
    limits?: Partial<ClientLimits>;
    fallback?: () => BundleFrame;
  } = {},
): Side {
  const home = options.home ?? mkdtempSync(join(tmpdir(), `securechat-state-${name}-`));
  const identity = options.identity ?? newLocalIdentity(name);
  const clock = options.clock ?? { now: 1_800_000_000_000 };
  const now = () => clock.now;
  const limits = options.limits ?? {};
  const state = loadClientState(StateDb.open(home, name, now()), identity, { now, limits });
  const bundles: BundleFrame[] = [];
  const requestBundle = async () => {
    const next = bundles.shift() ?? options.fallback?.();
    if (!next) throw new Error(`no bundle for ${name} to hand out`);
    return next;
  };
  return {
    name,
    identity,
    state,
    peers: new RatchetPeers(identity, state, requestBundle, now),
    home,
    idk: toBase64(identity.identity.publicKey),
    clock,
    bundles,
    limits,
    fallback: options.fallback,
  };
}

/** The same side after a restart: its state closed and opened again (same clock). */
export function reopen(side: Side): Side {
  side.state.db.close();
  return openSide(side.name, {
    home: side.home,
    identity: side.identity,
    clock: side.clock,
    limits: side.limits,
    ...(side.fallback ? { fallback: side.fallback } : {}),
  });
}

/** A side's bundle as a server with `spk` hands it out (optionally with a one-time prekey). */
export function bundleFor(side: Side, opk?: { id: number; pub: string }): BundleFrame {
  const spk = side.state.prekeys.upload();
  return {
    type: 'bundle',
    user: side.name,
    pub: spk.pub,
    idk: side.idk,
    sig: spk.pubsig,
    spk: { id: spk.id, created: spk.created, sig: spk.sig },
    ...(opk ? { opk } : {}),
    online: true,
    caps: ['ratchet', 'spk', 'random-nonce'],
  };
}

/** The bundle of an older server (or an owner without `spk`): the hello key. */
export function helloKeyBundle(side: Side): BundleFrame {
  return {
    type: 'bundle',
    user: side.name,
    pub: toBase64(side.identity.x25519.publicKey),
    idk: side.idk,
    sig: toBase64(signPrekey(side.identity.identity.secretKey, side.identity.x25519.publicKey)),
    online: true,
  };
}

/** alice and bob, each answering bundle requests with the other's current one. */
export function pair(bundle: (s: Side) => BundleFrame = bundleFor, clock?: Clock) {
  const holder: { alice?: Side; bob?: Side } = {};
  holder.alice = openSide('alice', {
    ...(clock ? { clock } : {}),
    fallback: () => bundle(holder.bob!),
  });
  holder.bob = openSide('bob', {
    ...(clock ? { clock } : {}),
    fallback: () => bundle(holder.alice!),
  });
  return { alice: holder.alice, bob: holder.bob };
}

/** A relay as the server delivers it. */
export function relay(
  envelope: { alg: string; header: string; nonce: string; cipher: string },
  from = 'x',
): RelayFrame {
  return { type: 'relay', to: 'x', from, ...envelope } as RelayFrame;
}
