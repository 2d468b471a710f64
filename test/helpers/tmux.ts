import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { waitUntil } from './cli.js';

/** True when tmux can be run here (.ci/run installs it from Debian when missing). */
export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
}

let counter = 0;

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export interface TmuxOptions {
  /** Extra environment for the command (TERM is xterm-256color unless given). */
  env?: Record<string, string>;
  width?: number;
  height?: number;
}

/**
 * A detached tmux session on its own server socket (`tmux -L`), driven like a user:
 * send-keys in, capture-pane out. The command runs under `sh -c` whatever the user's
 * shell is. Every tmux call and every wait is bounded; `kill()` ends the tmux server and
 * everything running in it.
 */
export class TmuxSession {
  readonly socket = `securechat-test-${process.pid}-${Date.now().toString(36)}-${++counter}`;
  readonly target = 'main';
  /** The server's socket file: tmux leaves it behind when the server exits. */
  readonly socketPath: string = '';

  constructor(script: string, options: TmuxOptions = {}) {
    const env = { TERM: 'xterm-256color', ...options.env };
    const exports = Object.entries(env)
      .map(([k, v]) => `export ${k}=${shellQuote(v)};`)
      .join(' ');
    // Several arguments after the options: tmux runs them directly, not through a shell
    // whose syntax we would have to guess.
    this.#tmux(
      'new-session',
      '-d',
      '-s',
      this.target,
      '-x',
      String(options.width ?? 120),
      '-y',
      String(options.height ?? 40),
      'sh',
      '-c',
      `${exports} ${script}`,
    );
    try {
      this.#tmux('set-option', '-t', this.target, 'remain-on-exit', 'on');
      this.socketPath = this.format('#{socket_path}');
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });
  }

  /** Runs any tmux command against this session's server. */
  run(...args: string[]): string {
    return this.#tmux(...args);
  }

  /** Types text literally (no key names). */
  type(text: string): void {
    this.#tmux('send-keys', '-t', this.target, '-l', text);
  }

  /** Presses keys by name: Enter, Tab, C-c, C-d, Up… (several in one call arrive at once). */
  press(...keys: string[]): void {
    this.#tmux('send-keys', '-t', this.target, ...keys);
  }

  /**
   * The visible screen. `escapes`: with the escape sequences tmux would send to redraw it
   * (attributes, colours, hyperlinks); `joined`: wrapped rows joined into their line.
   */
  screen(options: { escapes?: boolean; joined?: boolean } = {}): string {
    return this.#tmux(
      'capture-pane',
      '-p',
      ...(options.escapes ? ['-e'] : []),
      ...(options.joined ? ['-J'] : []),
      '-t',
      this.target,
    );
  }

  /** Visible rows without trailing blanks (`-J` keeps them), empty rows left out. */
  rows(options: { joined?: boolean } = {}): string[] {
    return this.screen(options)
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line !== '');
  }

  /** Last non-empty line of the screen (the prompt line; wrapped rows joined). */
  lastLine(): string {
    const rows = this.rows({ joined: true });
    return rows[rows.length - 1] ?? '';
  }

  /** A tmux format for the pane, e.g. `#{pane_title}`. */
  format(format: string): string {
    return this.#tmux('display-message', '-p', '-t', this.target, format).trim();
  }

  title(): string {
    return this.format('#{pane_title}');
  }

  cursor(): { x: number; y: number } {
    const [x, y] = this.format('#{cursor_x} #{cursor_y}').split(' ').map(Number);
    return { x: x ?? -1, y: y ?? -1 };
  }

  /** Polls the screen until `test` accepts it; the error shows the last screen. */
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

  /** Polls until `check` returns a value (not undefined); the error shows the last screen. */
  waitUntil<T>(check: () => T | undefined, timeoutMs = 10_000, what = 'a screen'): Promise<T> {
    return waitUntil(check, timeoutMs, () => `${what}; screen:\n${this.screen()}`);
  }

  /** Ends the tmux server (and the client in it) and removes its socket file. */
  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { encoding: 'utf8', timeout: 10_000 });
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }
}
