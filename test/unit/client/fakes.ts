/**
 * Fakes for the client's domain modules (no sockets): a link that records what is sent, a
 * sink that records events, a clock that moves only when told, and the modules built from
 * them the way chat-client.ts builds them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Timer, Timers } from '../../../src/client/clock.js';
import { IncomingMessages, type IncomingOptions } from '../../../src/client/direct/incoming.js';
import { clientLimits } from '../../../src/client/e2ee/limits.js';
import { V1KeyCache } from '../../../src/client/e2ee/v1-keys.js';
import { type ClientEvent, eventSink } from '../../../src/client/events.js';
import { LocalUser } from '../../../src/client/identity/local-user.js';
import { RoomLimits } from '../../../src/client/rooms/room-limits.js';
import { RoomManager, type RoomOptions } from '../../../src/client/rooms/room-manager.js';
import { PeerBook } from '../../../src/client/trust/peer-book.js';
import { TrustStore } from '../../../src/client/trust/trust-store.js';
import { WithheldMessages } from '../../../src/client/trust/withheld.js';
import {
  generateIdentityKeyPair,
  generateX25519KeyPair,
  type PeerInfo,
  signPrekey,
  toBase64,
} from '../../../src/protocol/index.js';

export const SERVER_PIN = 'sha256:00';

/** A v2 user with a fresh identity held in memory only (nothing written to disk). */
export function v2User(name: string): LocalUser {
  return new LocalUser(name, {
    name,
    identity: generateIdentityKeyPair(),
    x25519: generateX25519KeyPair(),
    createdAt: 0,
    path: '(memory)',
    encrypted: false,
  });
}

/** How the directory lists `user`: v2 with a signed key when it has an identity, else v1. */
export function listingOf(user: LocalUser, caps: string[] = ['ratchet']): PeerInfo {
  const pub = toBase64(user.keyPair.publicKey);
  if (!user.identity) return { pub, v: 1 };
  return {
    pub,
    v: 2,
    idk: toBase64(user.identity.identity.publicKey),
    sig: toBase64(signPrekey(user.identity.identity.secretKey, user.keyPair.publicKey)),
    caps,
  };
}

/** A directory snapshot of `users` (what a welcome or `users` frame carries). */
export function directoryOf(...users: Array<LocalUser | [LocalUser, PeerInfo]>) {
  const peers = new Map<string, PeerInfo>();
  for (const entry of users) {
    const [user, info] = Array.isArray(entry) ? entry : [entry, listingOf(entry)];
    peers.set(user.name, info);
  }
  const names = new Map([...peers].map(([name, info]) => [name, info.pub]));
  return { names, peers };
}

/** A clock that moves only when a test moves it. */
export function testClock(start = 1_800_000_000_000) {
  const clock = { now: start };
  return { clock, now: () => clock.now };
}

/** A server link: `ready` as set, every frame sent recorded. */
export function fakeLink(ready = true) {
  const sent: Array<Record<string, unknown>> = [];
  return {
    sent,
    ready,
    send(frame: object): boolean {
      sent.push(frame as Record<string, unknown>);
      return true;
    },
  };
}

/** A sink that records every event it is given. */
export function recordingSink(now: () => number = () => 0) {
  const events: ClientEvent[] = [];
  const sink = eventSink((event) => events.push(event), now);
  const of = <K extends ClientEvent['kind']>(kind: K) =>
    events.filter((e): e is ClientEvent & { kind: K } => e.kind === kind);
  return { events, sink, of };
}

/** A trust store of its own in a fresh directory (what a client with an identity keeps). */
export function freshTrust(user: string, now?: () => number): TrustStore {
  const home = mkdtempSync(join(tmpdir(), `securechat-trust-${user}-`));
  return new TrustStore(home, user, now ? { now } : {});
}

/** A peer book on one server, remembering in `trust` when given. */
export function peerBook(trust?: TrustStore, serverSpk = false): PeerBook {
  return new PeerBook({
    ...(trust ? { trust } : {}),
    server: SERVER_PIN,
    serverRatchet: () => true,
    serverSpk: () => serverSpk,
  });
}

/** The incoming pipeline of `user` with fakes for everything not given. */
export function incomingFor(user: LocalUser, options: Partial<IncomingOptions> = {}) {
  const link = fakeLink();
  const recorder = recordingSink(options.now);
  const senderKeys: Array<Parameters<IncomingOptions['senderKeys']['onSenderKey']>> = [];
  const withheld = options.withheld ?? new WithheldMessages();
  const peers = options.peers ?? peerBook();
  let refreshes = 0;
  const incoming = new IncomingMessages({
    user,
    send: (frame) => link.send(frame),
    senderField: () => user.name,
    peers,
    ratchet: () => undefined,
    v1Keys: new V1KeyCache(user.keyPair),
    withheld,
    senderKeys: { onSenderKey: (...args) => senderKeys.push(args) },
    refreshDirectory: () => {
      refreshes++;
    },
    sink: recorder.sink,
    now: () => 0,
    ...options,
  });
  return {
    incoming,
    link,
    peers,
    withheld,
    senderKeys,
    refreshes: () => refreshes,
    ...recorder,
  };
}

/** The rooms of `user` with fakes for everything not given. */
export function roomsFor(user: LocalUser, options: Partial<RoomOptions> = {}) {
  const { now, clock } = testClock();
  const link = fakeLink();
  const recorder = recordingSink(options.now ?? now);
  const keys: Array<{ to: string; room: string; keyId: number }> = [];
  const limits = options.limits ?? new RoomLimits(clientLimits(), options.now ?? now);
  const rooms = new RoomManager({
    user,
    link,
    peers: peerBook(),
    keys: {
      sendControl: async (to, content) => {
        keys.push({ to, room: content.room, keyId: content.keyId });
        return true;
      },
    },
    limits,
    sink: recorder.sink,
    now,
    ...options,
  });
  return { rooms, link, limits, keys, clock, ...recorder };
}

export { LocalUser };

/**
 * Timers on a clock that moves only when a test calls `advance`: due calls run in time
 * order, each seeing `now()` at its own due time. `pending` counts what is scheduled.
 */
export function manualTimers(start = 0) {
  let now = start;
  let nextId = 0;
  const scheduled = new Map<number, { at: number; every?: number; fn: () => void }>();
  const schedule = (at: number, fn: () => void, every?: number): Timer => {
    const id = nextId++;
    scheduled.set(id, { at, fn, ...(every === undefined ? {} : { every }) });
    return { cancel: () => scheduled.delete(id) };
  };
  const timers: Timers = {
    after: (ms, fn) => schedule(now + ms, fn),
    every: (ms, fn) => schedule(now + ms, fn, ms),
  };
  return {
    timers,
    now: () => now,
    get pending() {
      return scheduled.size;
    },
    /** Moves the clock by `ms`, running every call that falls due on the way (bounded). */
    advance(ms: number) {
      const end = now + ms;
      for (let runs = 0; runs < 100_000; runs++) {
        let due: [number, { at: number; every?: number; fn: () => void }] | undefined;
        for (const entry of scheduled)
          if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        const [id, timer] = due;
        now = timer.at;
        if (timer.every === undefined) scheduled.delete(id);
        else timer.at += timer.every;
        timer.fn();
      }
      now = end;
    },
  };
}
