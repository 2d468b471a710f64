import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { CliError, ExitCode } from '../../errors.js';
import { LineEditor } from './line-editor.js';

/**
 * Synchronous questions asked before a session starts (missing arguments, trust, key
 * passphrases), read from the terminal in raw mode so that Ctrl-C and Ctrl-D abort the
 * question (exit 130) instead of being swallowed or counted as an answer. Only used when
 * stdin and stdout are terminals; everything here has a flag or environment variable for
 * scripts.
 */
export interface Prompter {
  ask(question: string, defaultValue?: string): string;
  secret(question: string): string;
  confirm(question: string): boolean;
}

/** Ctrl-C or Ctrl-D at a question: the command stops, nothing was changed. */
export class PromptAborted extends CliError {
  constructor(reason: 'interrupt' | 'eof') {
    super(reason === 'interrupt' ? 'interrupted' : 'no answer (end of input)', {
      exitCode: ExitCode.interrupted,
      hint: 'nothing was changed',
    });
    this.name = 'PromptAborted';
  }
}

/** The raw terminal a question is asked on (injectable for tests). */
export interface PromptTerminal {
  write(text: string): void;
  /** The next chunk of raw input ('' at end of input). Blocks. */
  read(): string;
  /** Switches raw mode (no echo, no signals, byte by byte) on or off. */
  raw(on: boolean): void;
}

/** Asks one question on `tty`; returns the line or throws {@link PromptAborted}. */
export function askLine(tty: PromptTerminal, question: string, secret: boolean): string {
  const editor = new LineEditor({ secret });
  tty.write(question.replaceAll('\n', '\r\n'));
  tty.raw(true);
  try {
    for (;;) {
      const chunk = tty.read();
      const result = editor.feed(chunk === '' ? '\x04' : chunk);
      tty.write(editor.takeEcho());
      if (result.kind === 'done') return result.line;
      if (result.kind === 'abort') throw new PromptAborted(result.reason);
    }
  } finally {
    tty.raw(false);
    tty.write('\r\n');
  }
}

/** `[y/N]` questions: y or yes is yes, an empty answer or anything else is no. */
export function askYesNo(tty: PromptTerminal, question: string): boolean {
  const text = /\[y\/N\]\s*$/.test(question) ? question : `${question.trimEnd()} [y/N] `;
  const answer = askLine(tty, text, false).trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/** The process's controlling terminal (opened blocking, like readline-sync does). */
function processTerminal(): PromptTerminal {
  const stdin = process.stdin as NodeJS.ReadStream & { setRawMode?(on: boolean): void };
  return {
    write(text) {
      if (text !== '') writeSync(process.stdout.fd, text);
    },
    read() {
      const fd = openSync('/dev/tty', 'r');
      try {
        const buffer = Buffer.alloc(256);
        const n = readSync(fd, buffer, 0, buffer.length, null);
        return buffer.toString('utf8', 0, n);
      } finally {
        closeSync(fd);
      }
    },
    raw(on) {
      stdin.setRawMode?.(on);
      if (!on) stdin.pause();
    },
  };
}

export const terminalPrompter: Prompter = {
  ask(question, defaultValue) {
    const suffix = defaultValue ? ` [${defaultValue}]` : '';
    const answer = askLine(processTerminal(), `${question}${suffix}: `, false).trim();
    return answer === '' && defaultValue !== undefined ? defaultValue : answer;
  },
  secret(question) {
    return askLine(processTerminal(), question, true);
  },
  confirm(question) {
    return askYesNo(processTerminal(), question);
  },
};

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}
