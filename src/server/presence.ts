import { encodePresenceJoin, encodePresenceLeave, encodeUsersV1 } from '../protocol/index.js';
import type { DirectoryMember, PeerDirectory } from './directory.js';

/** Hears of every join and leave (a cluster node tells the other nodes). */
export interface PresenceObserver<M> {
  joined(member: M): void;
  left(member: M): void;
}

/**
 * Pushes directory changes to clients.
 * - v1 clients get the whole `users` map. Joins and leaves within one event-loop turn are
 *   coalesced into one frame per client (a burst of reconnects after a restart would
 *   otherwise cost O(N²) frames), serialized once and written to every v1 client.
 * - v2 clients with the `presence` capability get one small delta per change, at once.
 * - v2 clients without it get nothing pushed (they ask with `list`); this is what lets
 *   one server hold many thousands of idle clients.
 * A member that is not reading misses pushes and gets a fresh directory once it reads.
 */
export class PresenceBroadcaster<M extends DirectoryMember> {
  #directory: PeerDirectory<M>;
  #scheduled = false;
  #schedule: (task: () => void) => void;

  #observer: PresenceObserver<M> | undefined;

  constructor(
    directory: PeerDirectory<M>,
    schedule: (task: () => void) => void = setImmediate,
    observer?: PresenceObserver<M>,
  ) {
    this.#directory = directory;
    this.#schedule = schedule;
    this.#observer = observer;
  }

  /** `member` came online (or replaced its own earlier session). */
  joined(member: M): void {
    this.#delta(member, true);
    this.#changed();
    this.#observer?.joined(member);
  }

  /** `member` went offline. */
  left(member: M): void {
    this.#delta(member, false);
    this.#changed();
    this.#observer?.left(member);
  }

  /** The delta about `subject`, encoded only when someone wants it (a join reads peerJson). */
  #delta(subject: M, join: boolean): void {
    let line: string | undefined;
    for (const member of this.#directory.listening()) {
      if (!member.wantsPresence || member === subject) continue;
      line ??= join
        ? encodePresenceJoin(subject.name, subject.peerJson)
        : encodePresenceLeave(subject.name);
      this.#offer(member, line, 'presence');
    }
  }

  #changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Sends the current `users` frame to every v1 member. */
  flush(): void {
    let line: string | undefined;
    for (const member of this.#directory.listening()) {
      if (!member.wantsUserFrames) continue;
      line ??= encodeUsersV1(this.#directory.usersJson());
      this.#offer(member, line, 'users');
    }
  }

  #offer(member: M, line: string, kind: string): void {
    if (member.offer(line, kind) === 'full') member.directoryMissed();
  }
}
