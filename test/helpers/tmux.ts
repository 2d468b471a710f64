import { execFileSync, spawnSync } from 'node:child_process';
import { waitUntil } from './cli.js';

/** True when tmux can be run here (.ci/run installs it from Debian when missing). */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}

let counter = 0;

/**
 * A detached tmux session on a private server socket, driven like a user: send-keys in,
 * capture-pane out. Every wait is bounded.
 */
export class TmuxSession {
  readonly socket = `securechat-test-${process.pid}-${++counter}`;
  readonly target = 'main';

  constructor(
    command: string,
    env: Record<string, string> = {},
    size = { width: 120, height: 40 },
  ) {
    const exports = Object.entries({ TERM: 'xterm-256color', ...env })
      .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}';`)
      .join(' ');
    this.#tmux(
      'new-session',
      '-d',
      '-s',
      this.target,
      '-x',
      String(size.width),
      '-y',
      String(size.height),
      `${exports} ${command}`,
    );
    this.#tmux('set-option', '-t', this.target, 'remain-on-exit', 'on');
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.#tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** Presses keys by name: Enter, Tab, C-c, C-d, … */
  press(...keys: string[]): void {
    this.#tmux('send-keys', '-t', this.target, ...keys);
  }

  /** The visible screen; with `escapes`, including the SGR attributes tmux rendered. */
  screen(escapes = false): string {
    return this.#tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.target);
  }

  title(): string {
    return this.#tmux('display-message', '-p', '-t', this.target, '#{pane_title}').trim();
  }

  /** Last non-empty line of the screen (the prompt line). */
  lastLine(): string {
    const lines = this.screen()
      .split('\n')
      .filter((line) => line.trim() !== '');
    return lines[lines.length - 1] ?? '';
  }

  waitFor(
    test: (screen: string) => boolean,
    timeoutMs = 10_000,
    what = 'a screen',
  ): Promise<string> {
    return waitUntil(
      () => {
        const screen = this.screen();
        return test(screen) ? screen : undefined;
      },
      timeoutMs,
      () => `${what}; screen:\n${this.screen()}`,
    );
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { encoding: 'utf8' });
  }
}
