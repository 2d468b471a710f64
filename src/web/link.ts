import type { CoreMessage, PageMessage } from '../client/web/bridge-messages.js';

const KEY_ITEM = 'securechat-page-key';

/**
 * The page key from sign-in: it arrives once in the URL fragment (never sent to a server),
 * moves to this origin's storage (other ports cannot read it), and leaves the address bar.
 */
export function pageKey(): string | undefined {
  const fragment = /^#key=([A-Za-z0-9_-]{43})$/.exec(location.hash);
  if (fragment?.[1]) {
    localStorage.setItem(KEY_ITEM, fragment[1]);
    history.replaceState(null, '', '/');
  }
  return localStorage.getItem(KEY_ITEM) ?? undefined;
}

/**
 * The page's WebSocket to the local securechat, reopened after a drop (the core restarted
 * its link, the laptop slept). Authentication is the HttpOnly session cookie, which the
 * browser sends by itself (this script never sees it), plus the page key as a subprotocol.
 */
export class CoreLink {
  #socket: WebSocket | undefined;
  #retryMs = 500;
  #onMessage: (message: CoreMessage) => void;
  #onState: (linked: boolean) => void;
  #stopped = false;

  constructor(onMessage: (message: CoreMessage) => void, onState: (linked: boolean) => void) {
    this.#onMessage = onMessage;
    this.#onState = onState;
  }

  open(): void {
    const key = pageKey();
    if (key === undefined) {
      this.#onState(false);
      return;
    }
    const socket = new WebSocket(`ws://${location.host}/ws`, ['securechat', key]);
    this.#socket = socket;
    socket.onopen = () => {
      this.#retryMs = 500;
      this.#onState(true);
    };
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return;
      try {
        this.#onMessage(JSON.parse(message.data) as CoreMessage);
      } catch {
        // A line we cannot read changes nothing.
      }
    };
    socket.onclose = () => {
      this.#onState(false);
      if (this.#stopped) return;
      setTimeout(() => this.open(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 5000);
    };
  }

  /** Sends, or returns false while the link is down. */
  send(message: PageMessage): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  /** The core said goodbye (it quit): stop retrying. */
  stop(): void {
    this.#stopped = true;
  }
}
