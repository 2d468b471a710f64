import { describe, expect, it } from 'vitest';
import { SeenEnvelopes } from '../../../src/client/direct/incoming-queues.js';
import { applyMembers, type Member, newRoom } from '../../../src/client/rooms/room-state.js';
import { WithheldMessages } from '../../../src/client/trust/withheld.js';
import { receiveSenderKey, secureRandom } from '../../../src/protocol/index.js';

const member = (name: string, idk = `${name}-idk`): [string, Member] => [
  name.toLowerCase(),
  { name, info: { pub: `${name}-pub`, v: 2, idk } },
];

function roomWith(...names: string[]) {
  const room = newRoom('#club', '');
  room.members = new Map(names.map((n) => member(n)));
  for (const n of names) room.holders.add(n.toLowerCase());
  return room;
}

describe('room membership: every change is shown, departures rotate our key', () => {
  it('a member added by any frame is announced before anyone can hold our key', () => {
    const room = roomWith('alice', 'bob');
    const own = room.own;
    const shown: string[] = [];
    applyMembers(room, new Map([...room.members, member('eve')]), 'alice', (event, m) =>
      shown.push(`${event} ${m.name}`),
    );
    expect(shown).toEqual(['join eve']);
    expect(room.holders.has('eve')).toBe(false);
    expect(room.own).toBe(own); // nobody left: no need to rotate
  });

  it('a member who vanishes is announced as a part, forgotten, and our key rotates', () => {
    const room = roomWith('alice', 'bob', 'eve');
    room.received.set('eve|1', {
      identity: 'eve-idk',
      key: receiveSenderKey({
        keyId: 1,
        iteration: 0,
        chainKey: secureRandom(32),
        signingPublicKey: secureRandom(32),
      }),
    });
    const own = room.own;
    const shown: string[] = [];
    applyMembers(room, new Map([member('alice'), member('bob')]), 'alice', (event, m) =>
      shown.push(`${event} ${m.name}`),
    );
    expect(shown).toEqual(['part eve']);
    expect(room.own).not.toBe(own);
    expect(room.holders.size).toBe(0);
    expect(room.received.size).toBe(0);
  });

  it('the same name with another identity is shown as a join, and rotates our key', () => {
    const room = roomWith('alice', 'bob');
    const own = room.own;
    const shown: string[] = [];
    applyMembers(room, new Map([member('alice'), member('bob', 'server-idk')]), 'alice', (e, m) =>
      shown.push(`${e} ${m.name}`),
    );
    expect(shown).toEqual(['join bob']);
    expect(room.own).not.toBe(own);
  });

  it('an unchanged list changes nothing; our own entry is never announced', () => {
    const room = roomWith('alice', 'bob');
    const shown: string[] = [];
    applyMembers(room, new Map([member('alice', 'other'), member('bob')]), 'alice', (e, m) =>
      shown.push(`${e} ${m.name}`),
    );
    expect(shown).toEqual([]);
    const own = room.own;
    room.holders.add('bob');
    applyMembers(room, new Map(room.members), 'alice', (e, m) => shown.push(`${e} ${m.name}`));
    expect(shown).toEqual([]);
    expect(room.own).toBe(own);
    expect(room.holders.has('bob')).toBe(true);
  });
});

describe('incoming de-duplication and withholding', () => {
  it('v1 envelopes are recognized by sender and nonce, not by the unauthenticated id', () => {
    const seen = new SeenEnvelopes(2);
    expect(seen.firstTime('bob', 'N1')).toBe(true);
    expect(seen.firstTime('BOB', 'N1')).toBe(false);
    expect(seen.firstTime('carol', 'N1')).toBe(true);
    expect(seen.firstTime('bob', 'N2')).toBe(true);
    expect(seen.firstTime('bob', 'N1')).toBe(true); // bounded: the oldest is forgotten
  });

  it('withheld messages are kept per sender, bounded, and released selectively', () => {
    const held = new WithheldMessages(2, 2);
    const message = (from: string, text: string) => ({
      event: {
        kind: 'message' as const,
        ts: 0,
        direction: 'in' as const,
        from,
        to: 'alice',
        text,
        protection: 'e2ee-v1' as const,
      },
      via: 'v1' as const,
    });
    held.hold('bob', message('bob', '1'));
    held.hold('bob', message('bob', '2'));
    expect(held.hold('Bob', message('bob', '3'))).toBe(2);
    held.hold('carol', message('carol', 'c'));
    held.hold('dave', message('dave', 'd')); // evicts bob's (the oldest sender)
    expect(held.dropped).toBe(3);
    expect(held.senders()).toEqual(['carol', 'dave']);
    expect(held.take('carol', () => false)).toEqual([]);
    expect(held.take('carol', () => true).map((m) => m.event.text)).toEqual(['c']);
    expect(held.senders()).toEqual(['dave']);
  });
});
