import { nameKey } from '../../protocol/index.js';
import type { Conversations } from '../commands/index.js';
import type { ClientEvent } from '../events.js';

/**
 * The conversations of one terminal (or piped, or `--json`) session: the current target
 * (`/query`), ignored users, and unread counts per conversation. The commands change them;
 * every event from the client passes through {@link admit} on its way to the screen.
 */
export class ConversationState implements Conversations {
  #target: string | undefined;
  #ignored = new Set<string>();
  #unread = new Map<string, number>();

  get target(): string | undefined {
    return this.#target;
  }

  /** Unread messages by conversation (name key). */
  get unread(): ReadonlyMap<string, number> {
    return this.#unread;
  }

  /** Ignored users (name keys). */
  get ignored(): ReadonlySet<string> {
    return this.#ignored;
  }

  setTarget(target: string | undefined): void {
    this.#target = target;
  }

  markRead(conversation: string): void {
    this.#unread.delete(nameKey(conversation));
  }

  ignore(user: string): void {
    this.#ignored.add(nameKey(user));
  }

  unignore(user: string): boolean {
    return this.#ignored.delete(nameKey(user));
  }

  /**
   * Whether an event is shown: a message from an ignored user is dropped unseen; a message
   * to a conversation other than the current one counts as unread there.
   */
  admit(event: ClientEvent): boolean {
    if (event.kind !== 'message' || event.direction !== 'in') return true;
    if (this.#ignored.has(nameKey(event.from))) return false;
    const conversation = nameKey(event.to.startsWith('#') ? event.to : event.from);
    if (this.#target === undefined || nameKey(this.#target) !== conversation) {
      this.#unread.set(conversation, (this.#unread.get(conversation) ?? 0) + 1);
    }
    return true;
  }
}
