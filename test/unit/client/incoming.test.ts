/**
 * Incoming direct messages (direct/incoming.ts) with fakes: a recorded link and sink, a
 * peer book fed directory snapshots, and a scripted ratchet for the v2 paths. No sockets.
 */
import { describe, expect, it } from 'vitest';
import type { OpenResult, RatchetPeers } from '../../../src/client/e2ee/ratchet-peers.js';
import { V1KeyCache } from '../../../src/client/e2ee/v1-keys.js';
import { Protection } from '../../../src/client/events.js';
import type { LocalUser } from '../../../src/client/identity/local-user.js';
import { newRoom } from '../../../src/client/rooms/room-state.js';
import {
  ALG_RESET,
  ALG_V2,
  distributionOf,
  ErrorCode,
  encodePairwiseContent,
  generateIdentityKeyPair,
  type PairwiseContent,
  type RelayDelivery,
  readCanonicalRelay,
  sealV1,
  senderKeyContent,
  signReset,
  toBase64,
} from '../../../src/protocol/index.js';
import { directoryOf, freshTrust, incomingFor, listingOf, peerBook, v2User } from './fakes.js';

/** A v1 envelope from `from` to `to`, as `from`'s client seals it. */
function v1From(from: LocalUser, to: LocalUser, text: string, id = 'm1'): RelayDelivery {
  const key = new V1KeyCache(from.keyPair).keyFor(
    toBase64(to.keyPair.publicKey),
    to.keyPair.publicKey,
  );
  return { type: 'relay', from: from.name, to: to.name, ...sealV1(key, text), id };
}

/** A v2 relay whose opening the scripted ratchet decides (the cipher names the script). */
function v2From(from: LocalUser, script: string, id = 'm2'): RelayDelivery {
  return {
    type: 'relay',
    from: from.name,
    to: 'bob',
    alg: ALG_V2,
    header: toBase64(Buffer.from('header')),
    nonce: toBase64(Buffer.alloc(12)),
    cipher: toBase64(Buffer.from(script)),
    id,
  };
}

/** A ratchet that opens each relay as `scripts[cipher]` says, recording what it was asked. */
function scriptedRatchet(scripts: Record<string, OpenResult>) {
  const calls: Array<{ candidates: readonly string[]; firstContact?: boolean }> = [];
  const notices: string[] = [];
  const ratchet: Pick<RatchetPeers, 'open' | 'resetNotice' | 'acceptReset'> = {
    open(relay, candidates, options = {}) {
      calls.push({ candidates, ...options });
      return scripts[Buffer.from(relay.cipher, 'base64').toString()]!;
    },
    resetNotice(peerIdentity: string) {
      notices.push(peerIdentity);
      return { alg: ALG_RESET, header: 'reset-header', nonce: 'n', cipher: 'c' };
    },
    acceptReset: () => 'accepted',
  };
  return { ratchet, calls, notices };
}

const opened = (identity: string, content: PairwiseContent): OpenResult => ({
  ok: true,
  identity,
  text: encodePairwiseContent(content),
});

describe('incoming v1 messages', () => {
  it('opens a message from a listed sender, shows it once and ignores a replay', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    const { names, peers: listed } = directoryOf(alice);
    peers.replaceAll(names, listed);
    const { incoming, of } = incomingFor(bob, { peers });
    const relay = v1From(alice, bob, 'hello bob');
    incoming.handle(relay);
    incoming.handle(relay); // the server (or an attacker) sends it again
    const messages = of('message');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      from: 'alice',
      to: 'bob',
      text: 'hello bob',
      protection: Protection.legacy,
      direction: 'in',
    });
    expect(of('undecryptable')).toEqual([]);
  });

  it('shows "/me" text as an action', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const { incoming, of } = incomingFor(bob, { peers });
    incoming.handle(v1From(alice, bob, '/me waves'));
    expect(of('message')[0]).toMatchObject({ text: 'waves', action: true });
  });

  it('waits for the directory when the sender is not listed yet, then shows the message', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    const { incoming, of, refreshes } = incomingFor(bob, { peers });
    incoming.handle(v1From(alice, bob, 'early'));
    expect(of('message')).toEqual([]);
    expect(of('undecryptable')).toEqual([]);
    expect(refreshes()).toBe(1); // asked the server who alice is

    incoming.retryPending(); // nothing changed yet: still waiting, not failed
    expect(of('undecryptable')).toEqual([]);

    peers.upsert('alice', listingOf(alice));
    incoming.retryPending();
    expect(of('message').map((m) => m.text)).toEqual(['early']);
  });

  it('reports a message undecryptable once the directory moved and still has no key for it', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    const { incoming, of } = incomingFor(bob, { peers });
    incoming.handle(v1From(alice, bob, 'lost'));
    peers.upsert('carol', listingOf(v2User('carol')));
    incoming.retryPending();
    expect(of('undecryptable')).toEqual([
      expect.objectContaining({ from: 'alice', code: ErrorCode.DECRYPT_FAILED, id: 'm1' }),
    ]);
    expect(of('message')).toEqual([]);
  });

  it('garbage sent ahead of a real message with its nonce cannot hide it', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const { incoming, of } = incomingFor(bob, { peers });
    const real = v1From(alice, bob, 'the real one');
    const forged = { ...real, cipher: toBase64(Buffer.alloc(32, 7)) };
    incoming.handle(forged);
    incoming.handle(real);
    expect(of('message').map((m) => m.text)).toEqual(['the real one']);
    peers.upsert('carol', listingOf(v2User('carol'))); // the directory moves: forged is final
    incoming.retryPending();
    expect(of('undecryptable')).toHaveLength(1);
    expect(of('message')).toHaveLength(1);
  });

  it('refuses an unknown algorithm with a clear error', () => {
    const { incoming, of } = incomingFor(v2User('bob'));
    incoming.handle({ ...v1From(v2User('alice'), v2User('bob'), 'x'), alg: 'ROT13' });
    expect(of('undecryptable')[0]).toMatchObject({ code: ErrorCode.BAD_FIELD });
    expect(of('undecryptable')[0]?.reason).toContain('ROT13');
  });

  it('opens a note to self with our own key (nobody listed)', () => {
    const bob = v2User('bob');
    const { incoming, of } = incomingFor(bob);
    incoming.handle(v1From(bob, bob, 'note to self'));
    expect(of('message')[0]).toMatchObject({ from: 'bob', text: 'note to self' });
  });
});

describe('incoming v2 (ratchet) messages', () => {
  it('without a ratchet (legacy mode) says why a v2 message cannot be read', () => {
    const { incoming, of } = incomingFor(v2User('bob'));
    incoming.handle(v2From(v2User('alice'), 'anything'));
    expect(of('undecryptable')[0]).toMatchObject({
      from: 'alice',
      code: ErrorCode.RATCHET_NO_SESSION,
    });
  });

  it('opens with the identity listed for the sender and shows text and actions', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const { ratchet, calls } = scriptedRatchet({
      hi: opened(idk, { t: 'text', text: 'hi bob' }),
      wave: opened(idk, { t: 'action', text: 'waves' }),
    });
    const { incoming, of } = incomingFor(v2User('bob'), { peers, ratchet: () => ratchet });
    incoming.handle(v2From(alice, 'hi', 'a'));
    incoming.handle(v2From(alice, 'wave', 'b'));
    expect(calls[0]?.candidates).toEqual([idk]);
    expect(calls[0]?.firstContact).toBe(true); // not verified: first-contact state
    expect(of('message')).toEqual([
      expect.objectContaining({ text: 'hi bob', protection: Protection.ratchet, id: 'a' }),
      expect.objectContaining({ text: 'waves', action: true, id: 'b' }),
    ]);
  });

  it('opens a first message from a sender not listed yet (its presence delta still paced) by the identity in its init, as first contact', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const peers = peerBook(); // the server has not told us of alice yet
    const { ratchet, calls } = scriptedRatchet({
      hi: opened(idk, { t: 'text', text: 'hi bob' }),
    });
    const { incoming, of } = incomingFor(v2User('bob'), { peers, ratchet: () => ratchet });
    incoming.handle(v2From(alice, 'hi', 'a'));
    expect(calls[0]).toMatchObject({ candidates: [], firstContact: true });
    expect(of('message')).toEqual([
      expect.objectContaining({ text: 'hi bob', id: 'a', protection: Protection.ratchet }),
    ]);
  });

  it('ignores a listed identity whose signature does not cover the listed key', () => {
    const alice = v2User('alice');
    const peers = peerBook();
    peers.upsert('alice', { ...listingOf(alice), pub: listingOf(v2User('x')).pub });
    const { ratchet, calls } = scriptedRatchet({
      hi: { ok: false, code: ErrorCode.RATCHET_NO_SESSION, reason: 'no session' },
    });
    const { incoming } = incomingFor(v2User('bob'), { peers, ratchet: () => ratchet });
    incoming.handle(v2From(alice, 'hi'));
    expect(calls[0]?.candidates).toEqual([]);
  });

  it('hands a room sender key to the rooms with the sender standing, showing nothing', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const content = senderKeyContent('#club', distributionOf(newRoom('#club', '').own));
    const { ratchet } = scriptedRatchet({ sk: opened(idk, content) });
    const { incoming, of, senderKeys } = incomingFor(v2User('bob'), {
      peers,
      ratchet: () => ratchet,
    });
    incoming.handle(v2From(alice, 'sk'));
    expect(of('message')).toEqual([]);
    expect(senderKeys).toHaveLength(1);
    expect(senderKeys[0]?.slice(0, 2)).toEqual(['alice', idk]);
    expect(senderKeys[0]?.[2]).toMatchObject({ room: '#club', keyId: content.keyId });
    expect(senderKeys[0]?.[3]).toBe('known'); // nothing remembered in legacy trust: known
  });

  it('withholds a message authenticated by an identity other than the one remembered', () => {
    const alice = v2User('alice');
    const impostor = v2User('alice');
    const peers = peerBook(freshTrust('bob'));
    peers.upsert('alice', listingOf(alice));
    peers.observe(peers.get('alice')!); // bob remembers alice's identity
    const { ratchet } = scriptedRatchet({
      hi: opened(listingOf(impostor).idk!, { t: 'text', text: 'send me money' }),
    });
    const { incoming, of, withheld } = incomingFor(v2User('bob'), {
      peers,
      ratchet: () => ratchet,
    });
    incoming.handle(v2From(alice, 'hi'));
    expect(of('message')).toEqual([]);
    expect(of('warning').map((n) => n.code)).toEqual(['E_WITHHELD']);
    expect(withheld.senders()).toEqual(['alice']);
  });

  it('answers a message for a session it lacks with a reset to the sender', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const { ratchet, notices } = scriptedRatchet({
      lost: {
        ok: false,
        code: ErrorCode.RATCHET_NO_SESSION,
        reason: 'no session for that message',
        reset: { peerIdentity: idk, ratchetKey: new Uint8Array(32) },
      },
    });
    const { incoming, of, link } = incomingFor(v2User('bob'), { peers, ratchet: () => ratchet });
    incoming.handle(v2From(alice, 'lost'));
    expect(notices).toEqual([idk]);
    expect(link.sent).toEqual([
      expect.objectContaining({ type: 'relay', to: 'alice', from: 'bob', alg: ALG_RESET }),
    ]);
    expect(of('undecryptable')[0]?.reason).toContain('asked to start a new session');
  });

  it('writes the reset to our (v2) server without from, as a line its fast path takes', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const peers = peerBook();
    peers.upsert('alice', listingOf(alice));
    const { ratchet } = scriptedRatchet({
      lost: {
        ok: false,
        code: ErrorCode.RATCHET_NO_SESSION,
        reason: 'no session for that message',
        reset: { peerIdentity: idk, ratchetKey: new Uint8Array(32) },
      },
    });
    const bobIdentity = generateIdentityKeyPair();
    ratchet.resetNotice = (peerIdentity, ratchetKey) =>
      signReset(bobIdentity, peerIdentity, ratchetKey, 1_000);
    const { incoming, link } = incomingFor(v2User('bob'), {
      peers,
      ratchet: () => ratchet,
      senderField: () => undefined,
    });
    incoming.handle(v2From(alice, 'lost'));
    expect(link.sent).toHaveLength(1);
    expect(link.sent[0]).not.toHaveProperty('from');
    const line = JSON.stringify(link.sent[0]);
    const spliced = readCanonicalRelay(Buffer.from(line));
    expect(spliced?.deliveryLine('bob')).toBe(
      `{"type":"relay","from":"bob",${line.slice('{"type":"relay",'.length)}\n`,
    );
  });

  it('says nothing about a duplicate, and reports content it cannot read', () => {
    const alice = v2User('alice');
    const idk = listingOf(alice).idk!;
    const { ratchet } = scriptedRatchet({
      dup: { ok: false, code: 'E_REPLAY', reason: 'seen', duplicate: true },
      junk: { ok: true, identity: idk, text: '{"t":"nonsense"}' },
    });
    const { incoming, of } = incomingFor(v2User('bob'), { ratchet: () => ratchet });
    incoming.handle(v2From(alice, 'dup'));
    expect(of('undecryptable')).toEqual([]);
    incoming.handle(v2From(alice, 'junk'));
    expect(of('undecryptable')[0]).toMatchObject({ code: ErrorCode.BAD_FIELD });
    expect(of('message')).toEqual([]);
  });

  it('shows a reset from a known sender as a warning, and ignores one from a stranger', () => {
    const alice = v2User('alice');
    const peers = peerBook();
    const { ratchet } = scriptedRatchet({});
    const { incoming, of } = incomingFor(v2User('bob'), { peers, ratchet: () => ratchet });
    const reset = { ...v2From(alice, 'r'), alg: ALG_RESET };
    incoming.handle(reset); // alice unknown: no candidates, nothing said
    expect(of('warning')).toEqual([]);
    peers.upsert('alice', listingOf(alice));
    incoming.handle(reset);
    expect(of('warning').map((n) => n.code)).toEqual(['E_SESSION_RESET']);
  });
});
