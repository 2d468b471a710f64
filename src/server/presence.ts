import type { DirectoryMember, PeerDirectory } from './directory.js';

/**
 * Pushes directory changes to clients. Joins and leaves within one event-loop turn are
 * coalesced into one `users` frame per client (a burst of reconnects after a restart
 * would otherwise cost O(N²) frames), serialized once and written to every v1 client.
 */
export class PresenceBroadcaster<M extends DirectoryMember> {
  #directory: PeerDirectory<M>;
  #scheduled = false;
  #schedule: (task: () => void) => void;

  constructor(directory: PeerDirectory<M>, schedule: (task: () => void) => void = setImmediate) {
    this.#directory = directory;
    this.#schedule = schedule;
  }

  /** Records that membership changed; the push happens once, after the current turn. */
  changed(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Sends the current `users` frame to every member that wants it. */
  flush(): void {
    const line = `{"type":"users","users":${this.#directory.usersJson()}}\n`;
    for (const member of this.#directory.members()) {
      if (member.wantsUserFrames) member.send(line);
    }
  }
}
