import { describe, expect, it } from 'vitest';
import type { DirectoryMember } from '../../../src/server/directory.js';
import { PeerDirectory } from '../../../src/server/directory.js';
import { MAX_PENDING_DELTAS, PresenceBroadcaster } from '../../../src/server/presence.js';
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

function setup(bytesPerSecond?: number, writesPerSecond?: number) {
  const directory = new PeerDirectory<Member>();
  const scheduled: Array<() => void> = [];
  const delayed: Array<{ task: () => void; ms: number }> = [];
  const presence = new PresenceBroadcaster(directory, (task) => scheduled.push(task), undefined, {
    quietMs: 50,
    bytesPerSecond,
    writesPerSecond,
    delay: (task, ms) => delayed.push({ task, ms }),
  });
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
  /** The quiet periods running now end. */
  const quietEnds = () => {
    for (const { task, ms } of delayed.splice(0)) {
      expect(ms).toBe(50);
      task();
    }
  };
  return { directory, presence, join, leave, turn, quietEnds, delayed };
}

describe('presence pushes', () => {
  it('go to v1 members (users frames, once per turn) and presence members (deltas), nobody else', () => {
    const { directory, join, leave, turn, quietEnds } = setup();
    const seed = new Member('seed', true);
    const watcher = new Member('watcher', false, true);
    const idle = new Member('idle');
    join(seed);
    join(watcher);
    join(idle);
    turn();
    expect([...directory.userFrameMembers()]).toEqual([seed]);
    expect([...directory.presenceMembers()]).toEqual([watcher]);
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
    // the delta and the users frame both after the quiet period that followed the last push
    expect(watcher.got).toHaveLength(1);
    expect(seed.got).toHaveLength(1);
    quietEnds();
    expect(watcher.got.at(-1)).toEqual([
      'presence',
      '{"type":"presence","event":"leave","user":"idle"}\n',
    ]);
    expect(seed.got).toHaveLength(2);
    expect(JSON.parse(seed.got.at(-1)![1]).users).toEqual({ seed: seed.pub, watcher: watcher.pub });
    leave(watcher);
    expect([...directory.userFrameMembers()]).toEqual([seed]);
    expect([...directory.presenceMembers()]).toEqual([]);
  });

  it('a storm of joins and leaves costs a v1 member one users frame per quiet period, and the last one is current', () => {
    const { join, leave, turn, quietEnds, delayed } = setup();
    const seed = new Member('seed', true);
    join(seed);
    turn();
    expect(seed.got).toHaveLength(1); // a lone join: pushed at once
    const storm = Array.from({ length: 20 }, (_, i) => new Member(`m${i}`, true));
    for (const member of storm) {
      join(member);
      turn();
      leave(member);
      turn();
    }
    // 40 turns with a change each, inside one quiet period: nothing more yet
    expect(seed.got).toHaveLength(1);
    expect(delayed).toHaveLength(1);
    join(storm[0]!);
    turn();
    quietEnds();
    expect(seed.got).toHaveLength(2);
    expect(Object.keys(JSON.parse(seed.got[1]![1]).users).sort()).toEqual(['m0', 'seed']);
    expect(storm[0]!.got).toHaveLength(1); // (m0 joined again: it gets the one push too)
    // quiet period after that push; nothing changes in it: no push at its end, none pending
    quietEnds();
    expect(seed.got).toHaveLength(2);
    expect(delayed).toHaveLength(0);
    // and the next lone change goes at once again
    leave(storm[0]!);
    turn();
    expect(seed.got).toHaveLength(3);
    expect(Object.keys(JSON.parse(seed.got[2]![1]).users)).toEqual(['seed']);
  });

  it('after a big push the quiet period lasts as long as its bytes take at the byte budget; a small one keeps quietMs', () => {
    const small = setup(100_000);
    small.join(new Member('seed', true));
    small.turn();
    expect(small.delayed.map(({ ms }) => ms)).toEqual([50]); // one ~80-byte frame: 50 ms

    const { join, turn, delayed } = setup(100_000);
    const online = Array.from({ length: 60 }, (_, i) => new Member(`member${i}`, true));
    for (const member of online) join(member);
    turn(); // one push of the whole map to the 60
    const frame = online[0]!.got[0]![1];
    expect(online.every((member) => member.got.length === 1)).toBe(true);
    const ms = Math.ceil((frame.length * 60 * 1000) / 100_000);
    expect(ms).toBeGreaterThan(1000); // ≈ 3.6 KB × 60 at 100 KB/s
    expect(delayed.map((d) => d.ms)).toEqual([ms]);
    // changes meanwhile wait for it, then go as one push
    join(new Member('late', true));
    turn();
    expect(online[0]!.got).toHaveLength(1);
    delayed.splice(0)[0]!.task();
    expect(online[0]!.got).toHaveLength(2);
    expect(JSON.parse(online[0]!.got[1]![1]).users).toHaveProperty('late');
  });

  it('after a push to many subscribers the quiet period lasts as long as its writes take at the write budget', () => {
    const { join, turn, delayed } = setup(undefined, 1000);
    const watchers = Array.from({ length: 200 }, (_, i) => new Member(`w${i}`, false, true));
    for (const watcher of watchers) join(watcher);
    turn(); // each got the joins after its own: 199 writes (the last joiner had none)
    expect(delayed.map((d) => d.ms)).toEqual([199]);
    delayed.splice(0)[0]!.task(); // the quiet period ends
    join(new Member('x'));
    turn(); // one small delta to 200 subscribers: 200 writes at 1,000/s
    expect(watchers.every((w) => w.got.at(-1)![1].includes('"user":"x"'))).toBe(true);
    expect(delayed.map((d) => d.ms)).toEqual([200]);
  });

  it('a storm costs a presence subscriber one write per quiet period, with every delta since its own join, in order, never its own', () => {
    const { join, leave, turn, quietEnds } = setup();
    const early = new Member('early', false, true);
    join(early);
    turn();
    quietEnds();
    expect(early.got).toEqual([]); // nobody else: nothing to tell
    const a = new Member('a');
    join(a);
    turn(); // a lone change: at once
    expect(early.got.map(([, line]) => line)).toEqual([
      `{"type":"presence","event":"join","user":"a","peer":${a.peerJson}}\n`,
    ]);
    const late = new Member('late', false, true);
    const b = new Member('b');
    leave(a);
    turn();
    join(late);
    turn();
    join(b);
    turn();
    leave(b);
    turn();
    // c joins, then a subscriber, then c leaves: that subscriber's welcome had c
    const c = new Member('c');
    const later = new Member('later', false, true);
    join(c);
    turn();
    join(later);
    turn();
    leave(c);
    turn();
    expect(early.got).toHaveLength(1); // all within the quiet period
    expect(late.got).toEqual([]);
    quietEnds();
    const joinC = `{"type":"presence","event":"join","user":"c","peer":${c.peerJson}}\n`;
    const joinLater = `{"type":"presence","event":"join","user":"later","peer":${later.peerJson}}\n`;
    const leaveC = '{"type":"presence","event":"leave","user":"c"}\n';
    // b joined and left within the period, after late: undone, for everyone
    expect(early.got.slice(1)).toEqual([
      [
        'presence',
        `{"type":"presence","event":"leave","user":"a"}\n{"type":"presence","event":"join","user":"late","peer":${late.peerJson}}\n${joinC}${joinLater}${leaveC}`,
      ],
    ]);
    // late's welcome had the directory as of its join: only what followed, not itself
    expect(late.got).toEqual([['presence', `${joinC}${joinLater}${leaveC}`]]);
    // later's welcome had c: it gets c's leave, and nothing of itself
    expect(later.got).toEqual([['presence', leaveC]]);
  });

  it('past MAX_PENDING_DELTAS in one period the subscribers get a fresh directory instead', () => {
    const { join, turn, quietEnds } = setup();
    const watcher = new Member('watcher', false, true);
    let missed = 0;
    watcher.directoryMissed = () => {
      missed++;
    };
    join(watcher);
    join(new Member('first'));
    turn(); // pushed at once: the quiet period starts
    expect(watcher.got).toHaveLength(1);
    const crowd = Array.from({ length: MAX_PENDING_DELTAS + 10 }, (_, i) => new Member(`c${i}`));
    for (const member of crowd) join(member);
    turn();
    expect(missed).toBe(1);
    quietEnds();
    // what came after the overflow, still in order
    const lines = watcher.got[1]![1].trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(10);
    expect(lines.at(-1)).toMatchObject({ event: 'join', user: crowd.at(-1)!.name });
  });

  it('a join that replaced an earlier session of the name is not undone by a leave in the same period', () => {
    const { directory, presence, join, leave, turn, quietEnds } = setup();
    const watcher = new Member('watcher', false, true);
    join(watcher);
    const old = new Member('xavier');
    join(old);
    turn(); // the watcher knows xavier
    const newer = new Member('xavier');
    expect(directory.remove(old)).toBe(true); // taken over: no leave for it
    expect(directory.tryAdd(newer)).toBe(true);
    presence.joined(newer, true);
    turn();
    leave(newer);
    turn();
    quietEnds();
    const events = watcher.got.flatMap(([, lines]) =>
      lines
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).event as string),
    );
    expect(events).toEqual(['join', 'join', 'leave']); // xavier is gone for the watcher too
  });

  it('a member that joins and leaves within one period costs the subscribers nothing', () => {
    const { join, leave, turn, quietEnds } = setup();
    const watcher = new Member('watcher', false, true);
    join(watcher);
    join(new Member('first'));
    turn(); // pushed at once: the quiet period starts
    expect(watcher.got).toHaveLength(1);
    for (let i = 0; i < 50; i++) {
      const member = new Member(`s${i}`);
      join(member);
      turn();
      leave(member);
      turn();
    }
    quietEnds();
    expect(watcher.got).toHaveLength(1);
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
    expect([...directory.presenceMembers()]).toEqual([old]);
    expect(directory.remove(old)).toBe(true);
    expect([...directory.presenceMembers()]).toEqual([]);
  });
});
