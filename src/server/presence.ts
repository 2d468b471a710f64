import { encodePresenceJoin, encodePresenceLeave, encodeUsersV1 } from '../protocol/index.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';

/** Hears of every join and leave (a cluster node tells the other nodes). */
export interface PresenceObserver<M> {
  joined(member: M): void;
  left(member: M): void;
}

/** How directory pushes (v1 `users` frames, v2 `presence` deltas) are paced (injected in tests). */
export interface UsersPacing {
  /** After a push, further changes wait this long and then go as one push (0: no wait). */
  quietMs: number;
  /**
   * Longer after a big push: the wait is at least the push's bytes (the frame times its
   * recipients) at this rate. Unset: `quietMs` only.
   */
  bytesPerSecond?: number;
  /**
   * And at least the push's writes (one per recipient) at this rate: a TLS write costs
   * ≈ 10 µs of CPU however small, and a push goes to every subscriber. Unset: no bound.
   */
  writesPerSecond?: number;
  /** Runs `task` after `ms` (must not keep the process alive). */
  delay(task: () => void, ms: number): void;
}

export const DEFAULT_USERS_PACING: UsersPacing = {
  quietMs: 50,
  bytesPerSecond: 32 * 1024 * 1024,
  writesPerSecond: 5000,
  delay: (task, ms) => {
    setTimeout(task, ms).unref();
  },
};

/**
 * Deltas one push period may gather (≈ 600 KB, kept once for all subscribers); past this,
 * each subscriber gets a fresh directory instead. That costs each one a whole map once per
 * this many changes: less than the deltas it replaces while the directory is under ≈ 600 KB
 * (a few thousand users), so a small cap would make heavy churn cost more, not less.
 */
export const MAX_PENDING_DELTAS = 4096;

/**
 * Pushes directory changes to clients.
 * - v1 clients get the whole `users` map. Joins and leaves within one event-loop turn are
 *   coalesced into one frame per client (a burst of reconnects after a restart would
 *   otherwise cost O(N²) frames), serialized once and written to every v1 client. After a
 *   push, changes wait out a quiet period and then go as one more push: a lone join is
 *   pushed at once, a storm of connects costs at most one `users` frame per v1 client per
 *   quiet period instead of two per connect (the frame always carries the whole, current
 *   map, so nothing is lost by waiting). The quiet period is `quietMs` (50 ms by default),
 *   or longer when the push was big: as long as the push's bytes (frame × v1 clients) take
 *   at `bytesPerSecond`, and its writes (one per client) at `writesPerSecond`. With 1,000
 *   v1 clients online the map is ≈ 65 KB, a push 65 MB: every 50 ms that would be 1.3 GB/s
 *   of TLS writes during a connect storm.
 * - v2 clients with the `presence` capability get a small delta per change, paced the same
 *   way: the deltas of one push period go to each subscriber as one write (a lone change at
 *   once, a storm's changes one write per subscriber per quiet period instead of one per
 *   change: with 1,000 subscribers online a connect cost 18.6 ms of server CPU in writes).
 *   Each subscriber gets the deltas that follow its own join, never its own; past
 *   `MAX_PENDING_DELTAS` in one period the deltas are dropped and every subscriber gets a
 *   fresh directory instead (`directoryMissed`).
 * - v2 clients without it get nothing pushed (they ask with `list`); this is what lets
 *   one server hold many thousands of idle clients.
 * A member that is not reading misses pushes and gets a fresh directory once it reads.
 */
export class PresenceBroadcaster<M extends DirectoryMember> {
  #directory: PeerDirectory<M>;
  /** Presence deltas since the last push, in order. */
  #deltas: string[] = [];
  /** Subscribers that joined since the last push: where in #deltas theirs start. */
  #joinedAt = new Map<M, number>();
  /** Members whose join is in #deltas, at this index (a leave in the same period undoes it). */
  #pendingJoin = new Map<M, number>();
  /** What the push under way offered: bytes and writes (the pacing's measure). */
  #bytes = 0;
  #writes = 0;
  #scheduled = false;
  /** Within the quiet period after a push: the next push waits for its end. */
  #quiet = false;
  #schedule: (task: () => void) => void;
  #pacing: UsersPacing;

  #observer: PresenceObserver<M> | undefined;

  constructor(
    directory: PeerDirectory<M>,
    schedule: (task: () => void) => void = setImmediate,
    observer?: PresenceObserver<M>,
    pacing: UsersPacing = DEFAULT_USERS_PACING,
  ) {
    this.#directory = directory;
    this.#schedule = schedule;
    this.#observer = observer;
    this.#pacing = pacing;
  }

  /**
   * `member` came online. `replacing`: it took over an earlier session of its name, which
   * left without a delta (subscribers get this join as an update, and a leave within the
   * same period must reach them too).
   */
  joined(member: M, replacing = false): void {
    this.#delta(member, true, replacing);
    this.#changed();
    this.#observer?.joined(member);
  }

  /** `member` went offline. */
  left(member: M): void {
    this.#joinedAt.delete(member);
    this.#delta(member, false);
    this.#changed();
    this.#observer?.left(member);
  }

  /**
   * Records the delta about `subject` for the next push, encoded only when a subscriber
   * other than `subject` is online (a join reads peerJson). A joining subscriber (already in
   * the directory) gets only the deltas that follow its own. A leave whose join is still
   * waiting undoes it instead (a connect and close within one period, as in a connect storm,
   * costs the subscribers nothing) unless a subscriber joined in between: its welcome had
   * the member, so it needs the leave.
   */
  #delta(subject: M, join: boolean, replacing = false): void {
    if (!join && this.#undoJoin(subject)) return;
    const subscribing = join && subject.wantsPresence;
    if (this.#directory.presenceCount > (subscribing ? 1 : 0)) {
      if (this.#deltas.length >= MAX_PENDING_DELTAS) this.#overflow();
      this.#deltas.push(
        join
          ? encodePresenceJoin(subject.name, subject.peerJson)
          : encodePresenceLeave(subject.name),
      );
      if (join && !replacing) this.#pendingJoin.set(subject, this.#deltas.length - 1);
    }
    if (subscribing) this.#joinedAt.set(subject, this.#deltas.length);
  }

  /** Takes back `subject`'s waiting join if no subscriber joined after it; says whether it did. */
  #undoJoin(subject: M): boolean {
    const at = this.#pendingJoin.get(subject);
    if (at === undefined) return false;
    this.#pendingJoin.delete(subject);
    for (const from of this.#joinedAt.values()) if (from > at) return false;
    this.#deltas[at] = '';
    return true;
  }

  /** Too many deltas for one period: every subscriber gets a fresh directory instead. */
  #overflow(): void {
    this.#takePeriod();
    for (const member of this.#directory.presenceMembers()) member.directoryMissed();
  }

  /** This period's deltas and subscriber joins; the next period starts empty. */
  #takePeriod(): { deltas: string[]; joinedAt: Map<M, number> } {
    const period = { deltas: this.#deltas, joinedAt: this.#joinedAt };
    this.#deltas = [];
    this.#joinedAt = new Map();
    this.#pendingJoin.clear();
    return period;
  }

  #changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#quiet) return; // (the end of the quiet period pushes)
    this.#schedule(() => this.#push());
  }

  /**
   * Pushes what changed, then keeps quiet (changes meanwhile wait for its end): `quietMs`,
   * or as long as the bytes and writes just pushed take at `bytesPerSecond` and
   * `writesPerSecond`.
   */
  #push(): void {
    this.#scheduled = false;
    this.#bytes = 0;
    this.#writes = 0;
    this.flush();
    this.#pushDeltas();
    const { quietMs, bytesPerSecond, writesPerSecond } = this.#pacing;
    const quiet = Math.max(
      quietMs,
      bytesPerSecond ? Math.ceil((this.#bytes * 1000) / bytesPerSecond) : 0,
      writesPerSecond ? Math.ceil((this.#writes * 1000) / writesPerSecond) : 0,
    );
    if (quiet <= 0) return;
    this.#quiet = true;
    this.#pacing.delay(() => {
      this.#quiet = false;
      if (this.#scheduled) this.#push();
    }, quiet);
  }

  /** Sends the current `users` frame to every v1 member. */
  flush(): void {
    let line: string | undefined;
    for (const member of this.#directory.userFrameMembers()) {
      line ??= encodeUsersV1(this.#directory.usersJson());
      this.#offer(member, line, 'users');
    }
  }

  /** Sends each subscriber the deltas gathered for it, as one write. */
  #pushDeltas(): void {
    const { deltas, joinedAt } = this.#takePeriod();
    if (deltas.length === 0) return;
    const all = deltas.join('');
    for (const member of this.#directory.presenceMembers()) {
      const from = joinedAt.get(member);
      const lines = from === undefined ? all : deltas.slice(from).join('');
      if (lines.length > 0) this.#offer(member, lines, 'presence');
    }
  }

  /** Offers `line` to `member`, counted for the pacing (characters: bytes, the lines are ASCII). */
  #offer(member: M, line: string, kind: string): void {
    this.#bytes += line.length;
    this.#writes++;
    if (member.offer(line, kind) === 'full') member.directoryMissed();
  }
}
