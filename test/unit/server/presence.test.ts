import { describe, expect, it } from 'vitest';
import type { DirectoryMember } from '../../../src/server/directory.js';
import { PeerDirectory } from '../../../src/server/directory.js';
import { PresenceBroadcaster } from '../../../src/server/presence.js';
import type { SendResult } from '../../../src/server/session-output.js';

class Member implements DirectoryMember {
  readonly got: Array<[kind: string, line: string]> = [];
  peerJsonReads = 0;
  constructor(
    readonly name: string,
    readonly wantsUserFrames = false,
    readonly wantsPresence = false,
    readonly pub = Buffer.alloc(32, name.length).toString('base64'),
  ) {}
  get peerJson(): string {
    this.peerJsonReads++;
    return `{"pub":"${this.pub}","v":2}`;
  }
  offer(line: string, kind: string): SendResult {
    this.got.push([kind, line]);
    return 'queued';
  }
  directoryMissed(): void {}
}

function setup() {
  const directory = new PeerDirectory<Member>();
  const scheduled: Array<() => void> = [];
  const presence = new PresenceBroadcaster(directory, (task) => scheduled.push(task));
  const join = (member: Member) => {
    expect(directory.tryAdd(member)).toBe(true);
    presence.joined(member);
  };
  const leave = (member: Member) => {
    expect(directory.remove(member)).toBe(true);
    presence.left(member);
  };
  const turn = () => {
    for (const task of scheduled.splice(0)) task();
  };
  return { directory, join, leave, turn };
}

describe('presence pushes', () => {
  it('go to v1 members (users frames, once per turn) and presence members (deltas), nobody else', () => {
    const { directory, join, leave, turn } = setup();
    const seed = new Member('seed', true);
    const watcher = new Member('watcher', false, true);
    const idle = new Member('idle');
    join(seed);
    join(watcher);
    join(idle);
    turn();
    expect([...directory.listening()]).toEqual([seed, watcher]);
    expect(idle.got).toEqual([]);
    expect(watcher.got).toEqual([
      ['presence', `{"type":"presence","event":"join","user":"idle","peer":${idle.peerJson}}\n`],
    ]);
    // One users frame for the three joins of the turn.
    expect(seed.got.map(([kind]) => kind)).toEqual(['users']);
    expect(JSON.parse(seed.got[0]![1]).users).toEqual({
      seed: seed.pub,
      watcher: watcher.pub,
      idle: idle.pub,
    });
    leave(idle);
    turn();
    expect(watcher.got.at(-1)).toEqual([
      'presence',
      '{"type":"presence","event":"leave","user":"idle"}\n',
    ]);
    expect(JSON.parse(seed.got.at(-1)![1]).users).toEqual({ seed: seed.pub, watcher: watcher.pub });
    leave(watcher);
    expect([...directory.listening()]).toEqual([seed]);
  });

  it('a join nobody listens to does not build the joiner’s directory entry', () => {
    const { join, leave, turn } = setup();
    const quiet = [new Member('a'), new Member('b'), new Member('c')];
    for (const member of quiet) join(member);
    turn();
    leave(quiet[0]!);
    turn();
    expect(quiet.map((member) => member.peerJsonReads)).toEqual([0, 0, 0]);
    expect(quiet.flatMap((member) => member.got)).toEqual([]);
  });

  it('a member replaced under its name stops listening with the old session', () => {
    const { directory, join } = setup();
    const old = new Member('alice', false, true);
    join(old);
    expect(directory.remove(new Member('alice', false, true))).toBe(false); // not the one registered
    expect([...directory.listening()]).toEqual([old]);
    expect(directory.remove(old)).toBe(true);
    expect([...directory.listening()]).toEqual([]);
  });
});
