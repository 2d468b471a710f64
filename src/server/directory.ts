import { nameKey } from '../protocol/index.js';

/** What the directory needs from an online session. */
export interface DirectoryMember {
  readonly name: string;
  /** Base64 X25519 key from the hello. */
  readonly pub: string;
  /** Whether this member wants full `users` frames pushed on every change (v1 clients). */
  readonly wantsUserFrames: boolean;
  /** Queues one already-serialized line; returns false when the member cannot take it. */
  send(line: string): boolean;
}

/**
 * Who is online, by case-insensitive name. The serialized `users` map is cached and
 * rebuilt only when membership changes, so presence broadcasts and `list` replies do not
 * re-serialize the directory per recipient.
 */
export class PeerDirectory<M extends DirectoryMember = DirectoryMember> {
  #byKey = new Map<string, M>();
  #usersJson: string | undefined;

  get size(): number {
    return this.#byKey.size;
  }

  /** Adds a member unless its name (case-insensitively) is already online. */
  tryAdd(member: M): boolean {
    const key = nameKey(member.name);
    if (this.#byKey.has(key)) return false;
    this.#byKey.set(key, member);
    this.#usersJson = undefined;
    return true;
  }

  /** Removes a member if it is the one registered under its name. */
  remove(member: M): boolean {
    const key = nameKey(member.name);
    if (this.#byKey.get(key) !== member) return false;
    this.#byKey.delete(key);
    this.#usersJson = undefined;
    return true;
  }

  get(name: string): M | undefined {
    return this.#byKey.get(nameKey(name));
  }

  members(): IterableIterator<M> {
    return this.#byKey.values();
  }

  /** JSON of `{ name: pub, ... }` for every online member (cached until the next change). */
  usersJson(): string {
    if (this.#usersJson === undefined) {
      const users: Record<string, string> = Object.create(null);
      for (const member of this.#byKey.values()) users[member.name] = member.pub;
      this.#usersJson = JSON.stringify(users);
    }
    return this.#usersJson;
  }
}
