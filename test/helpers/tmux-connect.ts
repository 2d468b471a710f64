import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CLI } from './cli.js';
import { shellQuote, TmuxSession } from './tmux.js';

/** What the pane's shell prints after the client ends: its exit status and the tty modes. */
export const AFTER_EXIT = [
  'code=$?',
  'after=$(stty -g)',
  'if [ "$before" = "$after" ]; then echo TTY=restored; else echo TTY=changed; fi',
  'echo EXIT=$code',
  'exec sleep 120',
].join('; ');

export const tempHome = (name: string) => mkdtempSync(join(tmpdir(), `securechat-tty-${name}-`));

/**
 * Runs `securechat <args>` in a fresh tmux session (cwd `dir`); the shell prints the exit
 * status (`EXIT=n`) and whether the tty modes were restored (`TTY=restored`) after it.
 */
export function runInTmux(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  size: { width?: number; height?: number } = {},
): TmuxSession {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  return new TmuxSession(`cd ${shellQuote(dir)}; before=$(stty -g); ${command}; ${AFTER_EXIT}`, {
    env,
    ...size,
  });
}

/** The exit status the pane's shell printed, once the client ended. */
export async function exitOf(tty: TmuxSession, timeoutMs = 15_000): Promise<number> {
  const screen = await tty.waitFor((s) => /EXIT=\d+/.test(s), timeoutMs, 'the client to exit');
  return Number(/EXIT=(\d+)/.exec(screen)![1]);
}

/** Waits until the prompt line (wrapped rows joined) is exactly `line` (or matches it). */
export function promptIs(
  tty: TmuxSession,
  line: string | RegExp,
  timeoutMs = 10_000,
): Promise<string> {
  return tty.waitUntil(
    () => {
      const last = tty.lastLine();
      return (typeof line === 'string' ? last === line : line.test(last)) ? last : undefined;
    },
    timeoutMs,
    `the prompt line ${String(line)}`,
  );
}

/** The cursor sits right after the typed text on the prompt line. */
export function expectCursorAtEnd(tty: TmuxSession, width = 120): void {
  const screen = tty.screen().split('\n');
  let last = screen.length - 1;
  while (last > 0 && screen[last]!.trim() === '') last--;
  const promptRow = screen[last]!;
  expect(tty.cursor()).toEqual({ x: promptRow.length % width, y: last });
}
