/**
 * Outgoing direct messages (direct/outgoing.ts) and their delivery tracking, with fakes: a
 * recorded link, a peer book fed directory entries and a scripted ratchet. No sockets.
 */
import { describe, expect, it } from 'vitest';
import { DeliveryTracker } from '../../../src/client/direct/delivery.js';
import { OutgoingMessages } from '../../../src/client/direct/outgoing.js';
import type { RatchetPeers, SealPolicy } from '../../../src/client/e2ee/ratchet-peers.js';
import { V1KeyCache } from '../../../src/client/e2ee/v1-keys.js';
import { Protection } from '../../../src/client/events.js';
import type { LocalUser } from '../../../src/client/identity/local-user.js';
import type { PeerBook } from '../../../src/client/trust/peer-book.js';
import {
  ALG_V1,
  ALG_V2,
  ErrorCode,
  openV1,
  ProtocolError,
  readCanonicalRelay,
  toBase64,
} from '../../../src/protocol/index.js';
import { fakeLink, freshTrust, listingOf, peerBook, recordingSink, v2User } from './fakes.js';

type Seal = Pick<RatchetPeers, 'seal'>;

function outgoingFor(
  user: LocalUser,
  options: {
    peers?: PeerBook;
    ratchet?: Seal;
    ready?: boolean;
    maxQueued?: number;
    version?: number;
  } = {},
) {
  const link = { ...fakeLink(options.ready ?? true), version: options.version };
  const recorder = recordingSink();
  const peers = options.peers ?? peerBook();
  const delivery = new DeliveryTracker(recorder.sink, options.maxQueued ?? 100);
  const outgoing = new OutgoingMessages({
    user,
    link,
    peers,
    ratchet: () => options.ratchet,
    v1Keys: new V1KeyCache(user.keyPair),
    delivery,
    sink: recorder.sink,
    idPrefix: 'test',
  });
  const statuses = () => recorder.of('delivery').map((d) => `${d.to}:${d.status}`);
  return { outgoing, link, peers, delivery, statuses, ...recorder };
}

/** Lets queued promise chains run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A ratchet whose seals resolve when the test says, in any order. */
function manualRatchet() {
  const calls: Array<{
    to: string;
    text: string;
    policy: SealPolicy;
    resolve: (identity: string) => void;
    reject: (error: Error) => void;
  }> = [];
  const ratchet: Seal = {
    seal: (to, text, policy = {}) =>
      new Promise((resolve, reject) => {
        calls.push({
          to,
          text,
          policy,
          resolve: (identity) =>
            resolve({
              envelope: {
                alg: ALG_V2,
                header: 'h',
                nonce: 'n',
                cipher: toBase64(Buffer.from(text)),
              },
              identity,
              started: true,
            }),
          reject,
        });
      }),
  };
  return { ratchet, calls };
}

describe('outgoing v1 messages', () => {
  it('seals for the listed key so only the recipient opens it, and tracks its fate', async () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(bob).pub, v: 1 });
    const { outgoing, link, delivery, statuses, of } = outgoingFor(alice, { peers });
    const outcome = outgoing.send('bob', 'hi bob', false);
    expect(outcome.ok).toBe(true);
    await settle();
    expect(link.sent).toHaveLength(1);
    const frame = link.sent[0] as {
      to: string;
      alg: string;
      nonce: string;
      cipher: string;
      id: string;
    };
    expect(frame).toMatchObject({ type: 'relay', to: 'bob', from: 'alice', alg: ALG_V1 });
    expect(outcome.ok && frame.id).toBe(outcome.ok ? outcome.id : undefined);
    const bobKey = new V1KeyCache(bob.keyPair).keyFor(
      toBase64(alice.keyPair.publicKey),
      alice.keyPair.publicKey,
    );
    expect(openV1(bobKey, frame)).toBe('hi bob');
    expect(of('message')[0]).toMatchObject({ direction: 'out', protection: Protection.legacy });

    expect(statuses()).toEqual(['bob:sent']);
    delivery.acked(frame.id);
    expect(statuses()).toEqual(['bob:sent', 'bob:delivered']);
  });

  it('sends an action as "/me" text in a v1 envelope', async () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(bob).pub, v: 1 });
    const { outgoing, link } = outgoingFor(alice, { peers });
    outgoing.send('bob', 'waves', true);
    await settle();
    const key = new V1KeyCache(bob.keyPair).keyFor(
      toBase64(alice.keyPair.publicKey),
      alice.keyPair.publicKey,
    );
    expect(openV1(key, link.sent[0] as { nonce: string; cipher: string })).toBe('/me waves');
  });

  it('refuses a recipient who is not online when no ratchet can reach them', () => {
    const { outgoing, link, of } = outgoingFor(v2User('alice'));
    const outcome = outgoing.send('ghost', 'anyone?', false);
    expect(outcome).toEqual({ ok: false, reason: 'ghost is not online (see /list)' });
    expect(outgoing.send('no spaces allowed', 'x', false).ok).toBe(false);
    expect(link.sent).toEqual([]);
    expect(of('message')).toEqual([]);
  });

  it('sends nothing to a peer whose identity changed, and says why', async () => {
    const alice = v2User('alice');
    const peers = peerBook(freshTrust('alice'));
    peers.upsert('bob', listingOf(v2User('bob')));
    peers.observe(peers.get('bob')!);
    peers.upsert('bob', listingOf(v2User('bob'))); // another identity under the name
    const { outgoing, link } = outgoingFor(alice, { peers });
    const outcome = outgoing.send('bob', 'secret', false);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/^not sent: /);
    await settle();
    expect(link.sent).toEqual([]);
  });

  it('to our (v2) server: no `from`, canonical key order, so the relay takes its fast path', async () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(bob).pub, v: 1 });
    const { outgoing, link } = outgoingFor(alice, { peers, version: 2 });
    expect(outgoing.send('bob', 'hi bob', false).ok).toBe(true);
    await settle();
    expect(link.sent).toHaveLength(1);
    const line = JSON.stringify(link.sent[0]);
    expect(line).not.toContain('"from"');
    const relay = readCanonicalRelay(new TextEncoder().encode(line));
    expect(relay?.deliveryLine('alice')).toBe(
      `{"type":"relay","from":"alice",${line.slice('{"type":"relay",'.length)}\n`,
    );
  });

  it("to a seed (v1) server: `from` is still written (it forwards the client's)", async () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(bob).pub, v: 1 });
    const { outgoing, link } = outgoingFor(alice, { peers, version: 1 });
    expect(outgoing.send('bob', 'hi bob', false).ok).toBe(true);
    await settle();
    expect(link.sent[0]).toMatchObject({ type: 'relay', to: 'bob', from: 'alice' });
  });

  it('reports a message failed when the link drops it', async () => {
    const alice = v2User('alice');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(v2User('bob')).pub, v: 1 });
    const { outgoing, link, statuses } = outgoingFor(alice, { peers });
    link.send = () => false;
    outgoing.send('bob', 'into the void', false);
    await settle();
    expect(statuses()).toEqual(['bob:failed']);
  });
});

describe('outgoing while disconnected', () => {
  it('queues up to the limit, then refuses with the reason', () => {
    const { outgoing, delivery, statuses, link } = outgoingFor(v2User('alice'), {
      ready: false,
      maxQueued: 2,
    });
    expect(outgoing.send('bob', 'one', false).ok).toBe(true);
    expect(outgoing.send('bob', 'two', false).ok).toBe(true);
    const third = outgoing.send('bob', 'three', false);
    expect(third).toEqual({ ok: false, reason: 'not connected and 2 messages are already queued' });
    expect(delivery.queued).toBe(2);
    expect(statuses()).toEqual(['bob:queued', 'bob:queued']);
    expect(link.sent).toEqual([]);
    delivery.closed('client closed');
    expect(statuses().slice(2)).toEqual(['bob:failed', 'bob:failed']);
  });

  it('sends the queued messages in order once drained after a welcome', async () => {
    const alice = v2User('alice');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(v2User('bob')).pub, v: 1 });
    const { outgoing, delivery, link } = outgoingFor(alice, { peers, ready: false });
    outgoing.send('bob', 'one', false);
    outgoing.send('bob', 'two', false);
    (link as { ready: boolean }).ready = true;
    for (const message of delivery.drain()) outgoing.transmit(message);
    await settle();
    expect(link.sent.map((f) => f.id)).toEqual(['test-1', 'test-2']);
  });

  it('declares unconfirmed messages lost when the connection drops (once the server acks)', async () => {
    const alice = v2User('alice');
    const peers = peerBook();
    peers.upsert('bob', { pub: listingOf(v2User('bob')).pub, v: 1 });
    const { outgoing, delivery, link, statuses } = outgoingFor(alice, { peers });
    outgoing.send('bob', 'one', false);
    outgoing.send('bob', 'two', false);
    await settle();
    delivery.acked(String(link.sent[0]?.id), true); // stored for offline bob
    expect(delivery.unacknowledged).toBe(1);
    delivery.connectionLost();
    expect(statuses()).toEqual(['bob:sent', 'bob:sent', 'bob:stored', 'bob:failed']);
    expect(delivery.unacknowledged).toBe(0);
  });
});

describe('outgoing v2 (ratchet) messages', () => {
  it('keeps messages to one peer in order even when a session starts slowly', async () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const peers = peerBook();
    peers.upsert('bob', listingOf(bob));
    const { ratchet, calls } = manualRatchet();
    const { outgoing, link, of } = outgoingFor(alice, { peers, ratchet });
    outgoing.send('bob', 'first', false);
    outgoing.send('bob', 'second', false);
    await settle();
    expect(calls).toHaveLength(1); // the second waits for the first
    expect(calls[0]?.policy.trusted).toBe(listingOf(bob).idk);
    expect(JSON.parse(calls[0]!.text)).toMatchObject({ t: 'text', text: 'first' });
    expect(typeof JSON.parse(calls[0]!.text).ts).toBe('number'); // the send time, inside
    calls[0]?.resolve(listingOf(bob).idk!);
    await settle();
    calls[1]?.resolve(listingOf(bob).idk!);
    await settle();
    expect(link.sent.map((f) => f.id)).toEqual(['test-1', 'test-2']);
    expect(of('message').every((m) => m.protection === Protection.ratchet)).toBe(true);
  });

  it('says a user offline with no registered identity cannot be reached', async () => {
    const { ratchet, calls } = manualRatchet();
    const { outgoing, statuses, of } = outgoingFor(v2User('alice'), { ratchet });
    expect(outgoing.send('carol', 'are you there?', false).ok).toBe(true);
    await settle();
    calls[0]?.reject(new ProtocolError(ErrorCode.NO_BUNDLE, 'no bundle'));
    await settle();
    expect(statuses()).toEqual(['carol:failed']);
    expect(of('delivery')[0]?.reason).toBe(
      'carol is not online and has no registered identity here',
    );
    // Never shown as sent (issue 15: `/msg nobody hi` was echoed, then failed).
    expect(of('message')).toEqual([]);
  });

  it('shows a message to someone offline once the server vouched for them', async () => {
    const { ratchet, calls } = manualRatchet();
    const { outgoing, of } = outgoingFor(v2User('alice'), { ratchet });
    outgoing.send('carol', 'for later', false);
    await settle();
    expect(of('message')).toEqual([]);
    calls[0]?.resolve(listingOf(v2User('carol')).idk!);
    await settle();
    expect(of('message').map((m) => [m.to, m.text, m.protection])).toEqual([
      ['carol', 'for later', Protection.ratchet],
    ]);
  });

  it('remembers the identity the server vouched for on first contact with an offline user', async () => {
    const carol = v2User('carol');
    const peers = peerBook(freshTrust('alice'));
    const { ratchet, calls } = manualRatchet();
    const { outgoing, statuses } = outgoingFor(v2User('alice'), { peers, ratchet });
    outgoing.send('carol', 'hello', false);
    await settle();
    expect(calls[0]?.policy.trusted).toBeUndefined();
    calls[0]?.resolve(listingOf(carol).idk!);
    await settle();
    expect(peers.known('carol')?.identityKey).toBe(listingOf(carol).idk);
    expect(statuses()).toEqual(['carol:sent']);
  });

  it('carries control content only over the ratchet: never to a legacy peer', async () => {
    const peers = peerBook();
    peers.upsert('old', { pub: listingOf(v2User('old')).pub, v: 1 });
    peers.upsert('bob', listingOf(v2User('bob')));
    const { ratchet, calls } = manualRatchet();
    const { outgoing, link, of } = outgoingFor(v2User('alice'), { peers, ratchet });
    const content = { t: 'text' as const, text: 'control' };
    expect(await outgoing.sendControl('old', content)).toBe(false);
    const toBob = outgoing.sendControl('bob', content);
    await settle();
    calls[0]?.resolve(listingOf(v2User('bob')).idk!);
    expect(await toBob).toBe(true);
    expect(link.sent.map((f) => f.to)).toEqual(['bob']);
    expect(of('message')).toEqual([]); // nothing shown for control content
  });
});
