/**
 * Rooms on the client (rooms/room-manager.ts with room-inbox.ts and room-outbox.ts) with
 * fakes: two or three members' RoomManagers wired together by hand, the "server" being the
 * test moving frames from one recorded link to another's onFrame. No sockets.
 */
import { describe, expect, it } from 'vitest';
import type { RoomManager } from '../../../src/client/rooms/room-manager.js';
import type { PeerStatus } from '../../../src/client/trust/peer-book.js';
import type { RoomServerFrame, SenderKeyContent } from '../../../src/protocol/index.js';
import { listingOf, roomsFor, v2User } from './fakes.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Where a member's sender key goes: another member's rooms, with the standing it is seen with. */
interface KeyRoute {
  member: { rooms: Pick<RoomManager, 'onSenderKey'> };
  status: PeerStatus;
}

type Member = ReturnType<typeof member>;

/** A member whose sender keys reach the others' rooms as its routes say. */
function member(name: string) {
  const user = v2User(name);
  const idk = listingOf(user).idk!;
  const others = new Map<string, KeyRoute>();
  const keysSent: string[] = [];
  const side = roomsFor(user, {
    keys: {
      sendControl: async (to: string, content: SenderKeyContent) => {
        const peer = others.get(to);
        if (!peer) return false;
        keysSent.push(`${to}:${content.keyId}`);
        peer.member.rooms.onSenderKey(name, idk, content, peer.status);
        return true;
      },
    },
  });
  return { name, user, idk, others, keysSent, ...side };
}

/** Lets each member's key reach the others, as their ratchet would. */
function connect(...members: Member[]) {
  for (const from of members)
    for (const to of members)
      if (from !== to) from.others.set(to.name, { member: to, status: 'known' });
}

function joined(room: string, ...members: Member[]): RoomServerFrame {
  return {
    type: 'joined',
    room,
    topic: '',
    members: new Map(members.map((m) => [m.name, listingOf(m.user)])),
  };
}

/** What the server fans out: each roommsg `from` sent since `since`, to `to`. */
function deliver(from: Member, to: Member, since = 0): number {
  const frames = from.link.sent.filter((f) => f.type === 'roommsg').slice(since);
  for (const frame of frames)
    to.rooms.onFrame({ ...(frame as object), from: from.name } as RoomServerFrame);
  return frames.length;
}

/** alice and bob, each shown the other in `room`, their keys reaching each other. */
function aliceAndBobIn(room: string) {
  const alice = member('alice');
  const bob = member('bob');
  connect(alice, bob);
  alice.rooms.onFrame(joined(room, alice, bob));
  bob.rooms.onFrame(joined(room, alice, bob));
  return { alice, bob };
}

const texts = (m: Member) =>
  m
    .of('message')
    .filter((e) => e.direction === 'in')
    .map((e) => e.text);

describe('rooms: messages between members', () => {
  it('a message reaches a member after our key did, and the key goes once', async () => {
    const { alice, bob } = aliceAndBobIn('#club');
    expect(alice.rooms.send('#club', 'hello', false).ok).toBe(true);
    expect(alice.rooms.send('#club', 'again', true).ok).toBe(true);
    await settle();
    deliver(alice, bob);
    expect(texts(bob)).toEqual(['hello', 'again']);
    expect(bob.of('message')[1]).toMatchObject({ action: true, to: '#club', keyStatus: 'known' });
    expect(alice.keysSent).toHaveLength(1);
  });

  it('a message that arrives before its key waits for it', async () => {
    const alice = member('alice');
    const bob = member('bob');
    // The key to bob is held back (a slow pairwise path): the message gets there first.
    const held: Array<() => void> = [];
    alice.others.set('bob', {
      member: {
        rooms: { onSenderKey: (...args) => held.push(() => bob.rooms.onSenderKey(...args)) },
      },
      status: 'known',
    });
    alice.rooms.onFrame(joined('#club', alice, bob));
    bob.rooms.onFrame(joined('#club', alice, bob));
    alice.rooms.send('#club', 'early', false);
    await settle();
    deliver(alice, bob);
    expect(texts(bob)).toEqual([]);
    expect(bob.of('undecryptable')).toEqual([]); // waiting, not failed
    for (const release of held) release();
    expect(texts(bob)).toEqual(['early']);
  });

  it('shows a replayed room message once, and refuses a tampered one', async () => {
    const { alice, bob } = aliceAndBobIn('#club');
    alice.rooms.send('#club', 'once', false);
    await settle();
    deliver(alice, bob);
    deliver(alice, bob); // the server replays it
    expect(texts(bob)).toEqual(['once']);
    const frame = alice.link.sent.find((f) => f.type === 'roommsg')!;
    const cipher = Buffer.from(String(frame.cipher), 'base64');
    cipher[0] = (cipher[0] ?? 0) ^ 1;
    bob.rooms.onFrame({
      ...(frame as object),
      cipher: cipher.toString('base64'),
      from: 'alice',
    } as RoomServerFrame);
    expect(texts(bob)).toEqual(['once']);
    expect(bob.of('undecryptable').length).toBeGreaterThan(0);
  });
});

describe('rooms: who holds our key', () => {
  it('nobody who appears after a message was typed gets the key for it', async () => {
    const alice = member('alice');
    const bob = member('bob');
    const eve = member('eve');
    connect(alice, bob, eve);
    alice.rooms.onFrame(joined('#club', alice, bob));
    alice.rooms.send('#club', 'before eve', false);
    // eve is added in the same turn, before the key went out
    alice.rooms.onFrame({
      type: 'room',
      room: '#club',
      event: 'join',
      user: 'eve',
      peer: listingOf(eve.user),
    });
    await settle();
    expect(alice.keysSent.map((k) => k.split(':')[0])).toEqual(['bob']);
    expect(alice.of('room').map((e) => `${e.event} ${e.user ?? ''}`)).toContain('join eve');
    alice.rooms.send('#club', 'with eve', false);
    await settle();
    expect(alice.keysSent.map((k) => k.split(':')[0])).toEqual(['bob', 'eve']);
  });

  it('a member who leaves makes us rotate: the next message goes under a new key', async () => {
    const alice = member('alice');
    const bob = member('bob');
    const carol = member('carol');
    connect(alice, bob, carol);
    alice.rooms.onFrame(joined('#club', alice, bob, carol));
    carol.rooms.onFrame(joined('#club', alice, bob, carol));
    alice.rooms.send('#club', 'all three', false);
    await settle();
    const firstKey = alice.keysSent[0]!.split(':')[1];
    alice.rooms.onFrame({ type: 'room', room: '#club', event: 'part', user: 'bob' });
    alice.rooms.send('#club', 'without bob', false);
    await settle();
    const after = alice.keysSent.slice(2);
    expect(after.map((k) => k.split(':')[0])).toEqual(['carol']);
    expect(after[0]!.split(':')[1]).not.toBe(firstKey);
    carol.rooms.onFrame({ type: 'room', room: '#club', event: 'part', user: 'bob' });
    deliver(alice, carol);
    expect(texts(carol)).toEqual(['all three', 'without bob']);
  });
});

describe('rooms: keys we accept', () => {
  it('refuses a key from a member whose identity is in question, so their lines stay unread', async () => {
    const { alice, bob } = aliceAndBobIn('#club');
    alice.others.set('bob', { member: bob, status: 'changed' }); // bob sees alice as changed
    alice.rooms.send('#club', 'trust me', false);
    await settle();
    deliver(alice, bob);
    expect(bob.of('warning').map((w) => w.code)).toEqual(['E_KEY_CHANGED']);
    expect(texts(bob)).toEqual([]);
  });

  it('ignores a key from someone not shown as a member, or under another identity', async () => {
    const alice = member('alice');
    const bob = member('bob');
    const mallory = member('mallory');
    connect(alice, bob, mallory);
    bob.rooms.onFrame(joined('#club', alice, bob)); // mallory is not listed to bob
    mallory.rooms.onFrame(joined('#club', mallory, bob));
    mallory.rooms.send('#club', 'from a stranger', false);
    await settle();
    deliver(mallory, bob);
    expect(texts(bob)).toEqual([]);

    // alice's name, but the key comes under another identity than the one bob shows
    const impostorKey = member('alice');
    impostorKey.others.set('bob', { member: bob, status: 'known' });
    impostorKey.rooms.onFrame(joined('#club', impostorKey, bob));
    impostorKey.rooms.send('#club', 'i am alice', false);
    await settle();
    deliver(impostorKey, bob);
    expect(texts(bob)).toEqual([]);
  });
});

describe('rooms: requests', () => {
  it('refuses to send to a room we are not in, or while not connected', () => {
    const alice = member('alice');
    expect(alice.rooms.send('#nowhere', 'x', false)).toEqual({
      ok: false,
      reason: 'you are not in #nowhere (/join #nowhere)',
    });
    alice.rooms.onFrame(joined('#club', alice));
    (alice.link as { ready: boolean }).ready = false;
    expect(alice.rooms.send('#club', 'x', false).ok).toBe(false);
  });

  it('tells a banned member they are banned, not to /join (issue 15)', () => {
    const bob = member('bob');
    bob.rooms.onFrame(joined('#dev', bob));
    bob.rooms.onFrame({ type: 'room', room: '#dev', event: 'ban', user: 'bob', by: 'alice' });
    const outcome = bob.rooms.send('#dev', 'hello?', false);
    expect(outcome).toEqual({
      ok: false,
      reason: 'you are banned from #dev: your messages cannot reach it',
    });
    const other = member('carol');
    expect(other.rooms.send('#dev', 'x', false)).toMatchObject({ reason: /\/join #dev/ });
  });

  it('forgets a room we part, and sends requests as frames', () => {
    const alice = member('alice');
    alice.rooms.onFrame(joined('#club', alice));
    expect(alice.rooms.isMember('#CLUB')).toBe(true);
    alice.rooms.topic('#club', 'new topic');
    alice.rooms.moderate('#club', 'kick', 'bob', { reason: 'spam' });
    alice.rooms.onFrame({ type: 'room', room: '#club', event: 'part', user: 'alice' });
    expect(alice.rooms.isMember('#club')).toBe(false);
    expect(alice.link.sent).toEqual([
      { type: 'topic', room: '#club', text: 'new topic' },
      { type: 'moderate', room: '#club', action: 'kick', user: 'bob', reason: 'spam' },
    ]);
  });
});
