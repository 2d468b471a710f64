import { encodePeersEntry, encodeUsersEntry, nameKey } from '../protocol/index.js';
import type { SendResult } from './session-output.js';

/** What the directory needs from an online session. */
export interface DirectoryMember {
  readonly name: string;
  /** Base64 X25519 key from the hello. */
  readonly pub: string;
  /** JSON of this member's v2 directory entry (`PeerInfo`), built when first asked for. */
  readonly peerJson: string;
  /** v1 clients: full `users` frames pushed on every change. */
  readonly wantsUserFrames: boolean;
  /** v2 clients with the `presence` capability: `presence` deltas. */
  readonly wantsPresence: boolean;
  /** Offers a presence push (not queued while the member is not reading). */
  offer(line: string, kind: string): SendResult;
  /** A presence push was not queued: the member gets a fresh directory once it reads again. */
  directoryMissed(): void;
}

/**
 * Who is online, by case-insensitive name. The serialized `users` (v1) and `peers` (v2)
 * maps are cached and rebuilt only when membership changes, so presence pushes and `list`
 * replies do not re-serialize the directory per recipient.
 */
export class PeerDirectory<M extends DirectoryMember = DirectoryMember> {
  #byKey = new Map<string, M>();
  /** Members that get pushes on changes (v1 `users` frames, v2 `presence` deltas). */
  #listening = new Set<M>();
  #usersJson: string | undefined;
  #peersJson: string | undefined;

  get size(): number {
    return this.#byKey.size;
  }

  /** Adds a member unless its name (case-insensitively) is already online. */
  tryAdd(member: M): boolean {
    const key = nameKey(member.name);
    if (this.#byKey.has(key)) return false;
    this.#byKey.set(key, member);
    // What a member wants is fixed by its hello, which came before it was added.
    if (member.wantsUserFrames || member.wantsPresence) this.#listening.add(member);
    this.#invalidate();
    return true;
  }

  /** Removes a member if it is the one registered under its name. */
  remove(member: M): boolean {
    const key = nameKey(member.name);
    if (this.#byKey.get(key) !== member) return false;
    this.#byKey.delete(key);
    this.#listening.delete(member);
    this.#invalidate();
    return true;
  }

  get(name: string): M | undefined {
    return this.#byKey.get(nameKey(name));
  }

  members(): IterableIterator<M> {
    return this.#byKey.values();
  }

  /**
   * The members that get pushes on changes, in the order they joined: a join or leave costs
   * O(listeners), not O(everyone online) (thousands of idle v2 clients want none).
   */
  listening(): IterableIterator<M> {
    return this.#listening.values();
  }

  /** JSON of `{ name: pub, ... }` (v1 `users`), cached until the next change. */
  usersJson(): string {
    // Joined from the members directly (no pairs, no object): a v1 welcome asks for it after
    // every join.
    this.#usersJson ??= this.#joined((member) => encodeUsersEntry(member.name, member.pub));
    return this.#usersJson;
  }

  /** JSON of `{ name: PeerInfo, ... }` (v2 `peers`), cached until the next change. */
  peersJson(): string {
    this.#peersJson ??= this.#joined((member) => encodePeersEntry(member.name, member.peerJson));
    return this.#peersJson;
  }

  /** A JSON object of every member's `entry`, in the order they joined. */
  #joined(entry: (member: M) => string): string {
    const parts: string[] = [];
    for (const member of this.#byKey.values()) parts.push(entry(member));
    return `{${parts.join(',')}}`;
  }

  #invalidate(): void {
    this.#usersJson = undefined;
    this.#peersJson = undefined;
  }
}
