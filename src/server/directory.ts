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
  /**
   * Each member's `"name":"pub"` entry of the v1 `users` map, by the same keys in the same
   * (join) order: encoded once per member, not once per member per change (a v1 welcome
   * carries the whole map, and with thousands online re-encoding it was most of a connect).
   * Made when the map is first asked for: a server no v1 client uses keeps none.
   */
  #usersEntries: Map<string, string> | undefined;
  /** Members that get pushes on changes: v1 `users` frames, v2 `presence` deltas. */
  #userFrames = new Set<M>();
  #presence = new Set<M>();
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
    this.#usersEntries?.set(key, encodeUsersEntry(member.name, member.pub));
    // What a member wants is fixed by its hello, which came before it was added.
    if (member.wantsUserFrames) this.#userFrames.add(member);
    if (member.wantsPresence) this.#presence.add(member);
    this.#invalidate();
    return true;
  }

  /** Removes a member if it is the one registered under its name. */
  remove(member: M): boolean {
    const key = nameKey(member.name);
    if (this.#byKey.get(key) !== member) return false;
    this.#byKey.delete(key);
    this.#usersEntries?.delete(key);
    this.#userFrames.delete(member);
    this.#presence.delete(member);
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
   * The v1 members (`users` frames), in the order they joined: a push costs O(v1 members),
   * not O(everyone online) (thousands of idle v2 clients want none).
   */
  userFrameMembers(): IterableIterator<M> {
    return this.#userFrames.values();
  }

  /**
   * The v2 members with `presence` (a delta per join and leave), in the order they joined:
   * a join costs O(them), not O(everyone online) (nor O(v1 members), who get `users` frames).
   */
  presenceMembers(): IterableIterator<M> {
    return this.#presence.values();
  }

  /** How many members get `presence` deltas. */
  get presenceCount(): number {
    return this.#presence.size;
  }

  /** JSON of `{ name: pub, ... }` (v1 `users`), cached until the next change. */
  usersJson(): string {
    // A v1 welcome asks for it after every join: the members' entries, joined.
    if (this.#usersJson === undefined) {
      let entries = this.#usersEntries;
      if (entries === undefined) {
        entries = new Map();
        for (const [key, member] of this.#byKey)
          entries.set(key, encodeUsersEntry(member.name, member.pub));
        this.#usersEntries = entries;
      }
      this.#usersJson = jsonObject(entries.values());
    }
    return this.#usersJson;
  }

  /** JSON of `{ name: PeerInfo, ... }` (v2 `peers`), cached until the next change. */
  peersJson(): string {
    this.#peersJson ??= jsonObject(
      Array.from(this.#byKey.values(), (member) => encodePeersEntry(member.name, member.peerJson)),
    );
    return this.#peersJson;
  }

  #invalidate(): void {
    this.#usersJson = undefined;
    this.#peersJson = undefined;
  }
}

/** A JSON object of `"key":value` entries, in order. */
function jsonObject(entries: Iterable<string>): string {
  return `{${Array.from(entries).join(',')}}`;
}
