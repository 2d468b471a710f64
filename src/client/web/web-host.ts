import type { WebSocket } from 'ws';
import type { ClientEvent } from '../events.js';
import type { ControllerHost } from '../ui/controller.js';
import { type CoreMessage, type PageMessage, readPageMessage } from './bridge-messages.js';
import { WebFiles } from './web-files.js';
import { WebServer, type WebServerOptions } from './web-server.js';

/** Events kept for a page that (re)opens: its history after a reload. */
export const REPLAY_EVENTS = 2000;
/** A page that reads slower than this much queued output is dropped (it reconnects). */
const MAX_SOCKET_BUFFER = 8 * 1024 * 1024;

/** What the page may ask of the client core. */
export interface WebCore {
  /** Runs one command or message line, as the terminal and `--json` do. */
  handle(line: string): void;
  /** The 60-digit safety number with `user`. */
  safetyNumberWith(user: string): { ok: true; digits: string } | { ok: false; reason: string };
  /**
   * Starts sending a file the page uploaded (what `/send` runs): true, or why not. Without
   * it the host runs the `/send` line and cannot tell the page whether it started.
   */
  sendFile?(target: string, path: string): Promise<true | string>;
}

export interface WebHostOptions extends Omit<WebServerOptions, 'onSocket' | 'files'> {
  self: string;
  /** Where page uploads wait while they are sent (`<home>/web/uploads`); none: no uploads. */
  uploadDir?: string;
  /** Largest upload the page may make (default: the server's default maximum file size). */
  maxUploadBytes?: number;
  /** Our identity fingerprint, shown in the page header. */
  identity?: string;
}

/**
 * The browser front end as a {@link ControllerHost}: `--web` puts it where the terminal UI
 * would be. Every event goes to the open pages (and a bounded replay buffer), every page
 * line goes to the same command table as a typed line. Quitting is the process's business
 * (Ctrl-C or `/quit` from the page).
 */
export class WebHost implements ControllerHost {
  readonly closed: Promise<void>;
  readonly server: WebServer;
  readonly files: WebFiles | undefined;
  #options: WebHostOptions;
  #core: WebCore | undefined;
  #pending: PageMessage[] = [];
  #history: ClientEvent[] = [];
  #sockets = new Set<WebSocket>();
  #resolve!: () => void;
  #quit = false;

  constructor(options: WebHostOptions) {
    this.#options = options;
    this.closed = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    const { uploadDir, maxUploadBytes, ...serverOptions } = options;
    this.files = uploadDir
      ? new WebFiles({
          dir: uploadDir,
          ...(maxUploadBytes !== undefined ? { maxUploadBytes } : {}),
          send: (target, path) => this.#sendFile(target, path),
        })
      : undefined;
    this.server = new WebServer({
      ...serverOptions,
      ...(this.files ? { files: this.files } : {}),
      onSocket: (socket) => this.#open(socket),
    });
  }

  /** Starts listening; resolves with the URL holding the one-time token. */
  listen(): Promise<string> {
    return this.server.listen();
  }

  attach(core: WebCore): void {
    this.#core = core;
    for (const message of this.#pending.splice(0)) this.#run(message, undefined);
  }

  show(event: ClientEvent): void {
    this.files?.observe(event);
    this.#history.push(event);
    if (this.#history.length > REPLAY_EVENTS) this.#history.splice(0, REPLAY_EVENTS / 10);
    this.#broadcast({ type: 'event', event });
  }

  clear(): void {
    this.#history = [];
    this.#broadcast({ type: 'clear' });
  }

  quit(): void {
    if (this.#quit) return;
    this.#quit = true;
    this.#broadcast({ type: 'bye', reason: 'securechat stopped' });
    this.files?.close();
    void this.server.close().finally(() => this.#resolve());
  }

  async #sendFile(target: string, path: string): Promise<true | string> {
    const core = this.#core;
    if (!core) return 'securechat is still starting';
    if (core.sendFile) return core.sendFile(target, path);
    // The same /send as a typed line (the target is a checked name, the path has no line
    // break); its outcome arrives as events.
    core.handle(`/send ${target} ${path}`);
    return true;
  }

  #open(socket: WebSocket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.terminate());
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? undefined : readPageMessage(data.toString());
      if (message === undefined) {
        socket.close(1003, 'unsupported message');
        return;
      }
      if (this.#core) this.#run(message, socket);
      else if (this.#pending.length < 100) this.#pending.push(message);
    });
    this.#send(socket, {
      type: 'hello',
      self: this.#options.self,
      ...(this.#options.identity ? { identity: this.#options.identity } : {}),
      ...(this.files ? { maxUpload: this.files.maxUploadBytes } : {}),
    });
    this.#send(socket, { type: 'replay', events: this.#history });
  }

  #run(message: PageMessage, socket: WebSocket | undefined): void {
    const core = this.#core;
    if (!core) return;
    if (message.type === 'line') {
      core.handle(message.text);
      return;
    }
    const result = core.safetyNumberWith(message.user);
    const answer: CoreMessage = result.ok
      ? { type: 'safety', user: message.user, digits: result.digits }
      : { type: 'safety', user: message.user, reason: result.reason };
    if (socket) this.#send(socket, answer);
    else this.#broadcast(answer);
  }

  #broadcast(message: CoreMessage): void {
    if (this.#sockets.size === 0) return;
    const text = JSON.stringify(message);
    for (const socket of this.#sockets) this.#sendText(socket, text);
  }

  #send(socket: WebSocket, message: CoreMessage): void {
    this.#sendText(socket, JSON.stringify(message));
  }

  #sendText(socket: WebSocket, text: string): void {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_SOCKET_BUFFER) {
      socket.terminate();
      return;
    }
    socket.send(text);
  }
}
