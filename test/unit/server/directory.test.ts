import { describe, expect, it } from 'vitest';
import { encodePeersMap, encodeUsersMap } from '../../../src/protocol/index.js';
import type { DirectoryMember } from '../../../src/server/directory.js';
import { PeerDirectory } from '../../../src/server/directory.js';

class Member implements DirectoryMember {
  pubReads = 0;
  readonly #pub: string;
  constructor(
    readonly name: string,
    readonly wantsUserFrames = false,
    readonly wantsPresence = false,
  ) {
    this.#pub = Buffer.alloc(32, name.length * 7 + name.charCodeAt(0)).toString('base64');
  }
  get pub(): string {
    this.pubReads++;
    return this.#pub;
  }
  get peerJson(): string {
    return `{"pub":"${this.#pub}","v":2}`;
  }
  offer(): 'queued' {
    return 'queued';
  }
  directoryMissed(): void {}
}

/** A small deterministic PRNG (mulberry32): the same sequence on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PeerDirectory maps', () => {
  it('usersJson and peersJson are the encoders’ maps of the members in join order, after every change', () => {
    const random = prng(16);
    const directory = new PeerDirectory<Member>();
    const online: Member[] = [];
    // Names a client could not register are here too (a quote, a backslash, non-ASCII):
    // the directory's cached entries must escape exactly as the encoder does.
    const names = ['alice', 'Bob', 'carol.x', 'd_e-f', 'q"uote', 'back\\slash', 'émile', 'z9'];
    for (let step = 0; step < 400; step++) {
      const name = `${names[Math.floor(random() * names.length)]}${Math.floor(random() * 6)}`;
      const present = online.find((m) => m.name.toLowerCase() === name.toLowerCase());
      if (present && random() < 0.6) {
        expect(directory.remove(new Member(present.name))).toBe(false); // not the one registered
        expect(directory.remove(present)).toBe(true);
        online.splice(online.indexOf(present), 1);
      } else {
        // a name online in another case is refused and changes nothing
        const member = new Member(random() < 0.5 ? name : name.toUpperCase(), random() < 0.5);
        expect(directory.tryAdd(member)).toBe(present === undefined);
        if (present === undefined) online.push(member);
      }
      if (random() < 0.5) continue; // several changes between two reads, too
      expect(directory.usersJson()).toBe(encodeUsersMap(online.map((m) => [m.name, m.pub])));
      expect(directory.peersJson()).toBe(encodePeersMap(online.map((m) => [m.name, m.peerJson])));
      expect(JSON.parse(directory.usersJson())).toEqual(
        Object.fromEntries(online.map((m) => [m.name, m.pub])),
      );
      expect(directory.size).toBe(online.length);
    }
  });

  it('encodes each member’s users entry once, not once per change (a v1 welcome reads the map after every join)', () => {
    const directory = new PeerDirectory<Member>();
    const members = Array.from({ length: 50 }, (_, i) => new Member(`m${i}`, true));
    for (const member of members) {
      directory.tryAdd(member);
      directory.usersJson();
    }
    for (const member of members.slice(0, 25)) {
      directory.remove(member);
      directory.usersJson();
    }
    expect(members.map((m) => m.pubReads)).toEqual(members.map(() => 1));
    expect(Object.keys(JSON.parse(directory.usersJson()))).toEqual(
      members.slice(25).map((m) => m.name),
    );
  });

  it('encodes no users entry until the users map is first asked for (no v1 client: none kept)', () => {
    const directory = new PeerDirectory<Member>();
    const members = Array.from({ length: 20 }, (_, i) => new Member(`v2m${i}`, false, i % 2 === 0));
    for (const member of members) directory.tryAdd(member);
    directory.remove(members[3]!);
    expect(members.map((m) => m.pubReads)).toEqual(members.map(() => 0));
    const expected = members.filter((_, i) => i !== 3);
    expect(directory.usersJson()).toBe(encodeUsersMap(expected.map((m) => [m.name, m.pub])));
  });

  it('keeps v1 members and presence members apart: a join walks only those who want it', () => {
    const directory = new PeerDirectory<Member>();
    const v1 = new Member('seed', true);
    const watcher = new Member('watcher', false, true);
    const idle = new Member('idle');
    for (const member of [v1, watcher, idle]) directory.tryAdd(member);
    expect([...directory.userFrameMembers()]).toEqual([v1]);
    expect([...directory.presenceMembers()]).toEqual([watcher]);
    directory.remove(v1);
    directory.remove(watcher);
    expect([...directory.userFrameMembers()]).toEqual([]);
    expect([...directory.presenceMembers()]).toEqual([]);
    expect([...directory.members()]).toEqual([idle]);
  });
});
