import type { CoreMessage, PageMessage } from '../client/web/bridge-messages.js';

/**
 * The page's WebSocket to the local securechat, reopened after a drop (the core restarted
 * its link, the laptop slept). Authentication is the HttpOnly session cookie, which the
 * browser sends by itself; this script never sees it.
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
    const socket = new WebSocket(`ws://${location.host}/ws`);
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
