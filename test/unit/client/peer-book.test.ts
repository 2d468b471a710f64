/**
 * PeerBook: the client's view of who is online and how far each key can be trusted. These
 * tests use no sockets: directory snapshots go in, standings come out.
 */
import { describe, expect, it } from 'vitest';
import { SecurityFeature } from '../../../src/client/trust/trust-floor.js';
import { toBase64 } from '../../../src/protocol/index.js';
import { directoryOf, freshTrust, listingOf, peerBook, v2User } from './fakes.js';

describe('peer book: the directory', () => {
  it('reports who joined, left and changed keys between snapshots, and moves its version', () => {
    const alice = v2User('alice');
    const bob = v2User('bob');
    const carol = v2User('carol');
    const book = peerBook();
    const before = directoryOf(alice, bob);
    const first = book.replaceAll(before.names, before.peers);
    expect(first.joined.map((p) => p.name).sort()).toEqual(['alice', 'bob']);
    const v1 = book.version;

    const bobAgain = v2User('bob'); // same name, new keys
    const { names, peers } = directoryOf(bobAgain, carol);
    const diff = book.replaceAll(names, peers);
    expect(diff.joined.map((p) => p.name)).toEqual(['carol']);
    expect(diff.left.map((p) => p.name)).toEqual(['alice']);
    expect(diff.rekeyed.map((p) => p.name)).toEqual(['bob']);
    expect(book.version).toBeGreaterThan(v1);
    expect(book.get('BOB')?.pub).toBe(toBase64(bobAgain.keyPair.publicKey)); // names fold case
    expect(book.get('alice')).toBeUndefined();
  });

  it('drops an entry whose key is not 32 bytes of Base64 instead of failing the snapshot', () => {
    const alice = v2User('alice');
    const book = peerBook();
    const { names, peers } = directoryOf(alice);
    peers.set('mallory', { pub: 'not base64!', v: 1 });
    const diff = book.replaceAll(names, peers);
    expect(book.names()).toEqual(['alice']);
    expect(diff.joined).toHaveLength(1);
  });

  it('accepts a presence join once, then reports the same keys as unchanged', () => {
    const alice = v2User('alice');
    const book = peerBook();
    expect(book.upsert('alice', listingOf(alice))?.change).toBe('joined');
    expect(book.upsert('alice', listingOf(alice))?.change).toBe('same');
    expect(book.upsert('alice', listingOf(v2User('alice')))?.change).toBe('rekeyed');
    expect(book.remove('Alice')?.name).toBe('alice');
    expect(book.get('alice')).toBeUndefined();
  });
});

describe('peer book: signatures', () => {
  it('believes an identity only when it signed the listed key', () => {
    const alice = v2User('alice');
    const mallory = v2User('mallory');
    const book = peerBook();
    book.upsert('alice', listingOf(alice));
    expect(book.signatureValid(book.get('alice')!)).toBe(true);
    expect(book.status(book.get('alice')!)).toBe('new');

    // A server pairing alice's identity with its own key: the signature does not cover it.
    book.upsert('alice', { ...listingOf(alice), pub: listingOf(mallory).pub });
    expect(book.signatureValid(book.get('alice')!)).toBe(false);
    expect(book.status(book.get('alice')!)).toBe('invalid');
  });

  it('calls a v1 entry legacy', () => {
    const book = peerBook();
    book.upsert('old', { pub: listingOf(v2User('old')).pub, v: 1 });
    expect(book.status(book.get('old')!)).toBe('legacy');
  });
});

describe('peer book: trust it remembers', () => {
  it('trusts on first use, then flags another identity under the name as changed', () => {
    const trust = freshTrust('me');
    const book = peerBook(trust);
    const alice = v2User('alice');
    book.upsert('alice', listingOf(alice));
    expect(book.observe(book.get('alice')!).status).toBe('known');
    expect(book.known('alice')?.identityKey).toBe(listingOf(alice).idk);

    book.upsert('alice', listingOf(v2User('alice')));
    const assessment = book.assess(book.get('alice')!);
    expect(assessment).toMatchObject({ status: 'changed', reason: 'key' });
    // Observing the impostor does not replace what we remember.
    book.observe(book.get('alice')!);
    expect(book.known('alice')?.identityKey).toBe(listingOf(alice).idk);
  });

  it('flags the same identity offering less than it was seen with as a downgrade', () => {
    const book = peerBook(freshTrust('me'));
    const alice = v2User('alice');
    book.upsert('alice', listingOf(alice, ['ratchet']));
    book.observe(book.get('alice')!);
    book.upsert('alice', listingOf(alice, [])); // the ratchet is no longer offered
    const assessment = book.assess(book.get('alice')!);
    expect(assessment.status).toBe('changed');
    expect(assessment.reason).toBe('downgrade');
    expect(assessment.lost).toContain(SecurityFeature.ratchet);
  });

  it('/trust accepts what is offered now; /verify marks the identity verified', () => {
    const book = peerBook(freshTrust('me'));
    const alice = v2User('alice');
    book.upsert('alice', listingOf(alice));
    book.observe(book.get('alice')!);
    const newAlice = v2User('alice');
    book.upsert('alice', listingOf(newAlice));
    expect(book.status(book.get('alice')!)).toBe('changed');
    book.trustCurrent(book.get('alice')!);
    expect(book.status(book.get('alice')!)).toBe('known');
    book.markVerified(book.get('alice')!);
    expect(book.status(book.get('alice')!)).toBe('verified');
    expect(book.identityStatus('alice', listingOf(newAlice).idk!)).toBe('verified');
    expect(book.identityStatus('alice', listingOf(alice).idk!)).toBe('changed');
  });

  it('remembers nothing without a trust store (legacy mode)', () => {
    const book = peerBook();
    const alice = v2User('alice');
    book.upsert('alice', listingOf(alice));
    book.observe(book.get('alice')!);
    expect(book.remembers).toBe(false);
    expect(book.known('alice')).toBeUndefined();
    expect(book.identityStatus('alice', listingOf(alice).idk!)).toBe('known');
  });
});
