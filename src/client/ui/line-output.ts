import { createInterface } from 'node:readline';
import type { ClientEvent } from '../events.js';
import type { ChatController, ControllerHost } from './controller.js';
import { renderEvent } from './render.js';

export interface LineOutputOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  self: string;
  /** One JSON object per event (the `--json` format) instead of rendered text. */
  json: boolean;
  color: boolean;
}

/**
 * Non-interactive front end: one command or message per input line (pipes and scripts),
 * each event printed as a rendered line or, with `--json`, as one JSON object per line.
 * JSON.stringify escapes control characters, so peer text cannot reach a terminal raw.
 */
export class LineOutput implements ControllerHost {
  /** Resolves when input ended or /quit was given. */
  readonly closed: Promise<void>;
  #options: LineOutputOptions;
  #controller: ChatController | undefined;
  #resolve!: () => void;
  #pending: string[] = [];
  #quit = false;
  #rl: ReturnType<typeof createInterface>;

  constructor(options: LineOutputOptions) {
    this.#options = options;
    this.closed = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    const rl = createInterface({ input: options.input, terminal: false });
    this.#rl = rl;
    rl.on('line', (line) => {
      if (this.#controller) this.#controller.handle(line);
      else this.#pending.push(line);
    });
    rl.on('close', () => this.quit());
  }

  attach(controller: ChatController): void {
    this.#controller = controller;
    for (const line of this.#pending.splice(0)) controller.handle(line);
  }

  show(event: ClientEvent): void {
    if (this.#options.json) {
      this.#options.output.write(`${JSON.stringify(event)}\n`);
      return;
    }
    const lines = renderEvent(event, { color: this.#options.color, self: this.#options.self });
    if (lines.length > 0) this.#options.output.write(`${lines.join('\n')}\n`);
  }

  clear(): void {}

  quit(): void {
    if (this.#quit) return;
    this.#quit = true;
    this.#rl.close();
    this.#resolve();
  }
}
