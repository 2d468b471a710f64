import { describe, expect, it } from 'vitest';
import { LineEditor } from '../../../src/client/ui/line-editor.js';
import {
  askLine,
  askYesNo,
  PromptAborted,
  type PromptTerminal,
} from '../../../src/client/ui/prompts.js';
import { describeError, ExitCode, networkHint } from '../../../src/errors.js';

/** A terminal that hands out the given chunks and records writes and raw mode. */
function fakeTerminal(chunks: string[]) {
  const written: string[] = [];
  const modes: boolean[] = [];
  const tty: PromptTerminal = {
    write: (text) => written.push(text),
    read: () => chunks.shift() ?? '',
    raw: (on) => modes.push(on),
  };
  return { tty, written, modes };
}

describe('questions before a session (issue 15: Ctrl-C aborts, cleanly)', () => {
  it('returns the typed line, with backspace and Ctrl-U applied and arrows ignored', () => {
    const { tty, modes } = fakeTerminal(['ab', 'x\x7f', '\x1b[A\x1bOP', 'c\r']);
    expect(askLine(tty, 'Name: ', false)).toBe('abc');
    expect(modes).toEqual([true, false]);
    expect(askLine(fakeTerminal(['junk\x15ok\n']).tty, 'Q ', false)).toBe('ok');
  });

  it('Ctrl-C aborts with exit code 130 and restores the terminal', () => {
    const { tty, modes } = fakeTerminal(['sec', '\x03', 'ret\r']);
    let error: unknown;
    try {
      askLine(tty, 'Passphrase: ', true);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PromptAborted);
    expect(describeError(error).exitCode).toBe(ExitCode.interrupted);
    expect(ExitCode.interrupted).toBe(130);
    expect(modes).toEqual([true, false]);
  });

  it('Ctrl-D aborts on an empty line, and end of input does too', () => {
    expect(() => askLine(fakeTerminal(['\x04']).tty, 'Q ', false)).toThrow(PromptAborted);
    expect(() => askLine(fakeTerminal([]).tty, 'Q ', false)).toThrow(PromptAborted);
    expect(askLine(fakeTerminal(['a\x04b\r']).tty, 'Q ', false)).toBe('ab');
  });

  it('a secret echoes nothing', () => {
    const { tty, written } = fakeTerminal(['hunter2\r']);
    expect(askLine(tty, 'Passphrase: ', true)).toBe('hunter2');
    expect(written.join('')).not.toContain('hunter');
  });

  it('[y/N]: y and yes accept, Enter and anything else refuse, Ctrl-C aborts', () => {
    expect(askYesNo(fakeTerminal(['y\r']).tty, 'Trust it? [y/N] ')).toBe(true);
    expect(askYesNo(fakeTerminal(['YES\r']).tty, 'Trust it? [y/N] ')).toBe(true);
    expect(askYesNo(fakeTerminal(['\r']).tty, 'Trust it? [y/N] ')).toBe(false);
    expect(askYesNo(fakeTerminal(['n\r']).tty, 'Trust it?')).toBe(false);
    expect(() => askYesNo(fakeTerminal(['\x03']).tty, 'Trust it? [y/N] ')).toThrow(PromptAborted);
  });

  it('the editor ignores control characters and C1 codes', () => {
    const editor = new LineEditor();
    expect(editor.feed('a\x07\x01\u009bb')).toEqual({ kind: 'more' });
    expect(editor.line).toBe('ab');
  });
});

describe('connection errors carry a hint', () => {
  it('names what to check for a refused, unknown or unreachable server', () => {
    expect(networkHint('ECONNREFUSED')).toBe('is the server running, is the port right?');
    expect(networkHint('ENOTFOUND')).toMatch(/host name/);
    expect(networkHint('ETIMEDOUT')).toMatch(/reachable/);
    expect(networkHint('EWHATEVER')).toBeUndefined();
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    expect(describeError(error).hint).toBe('is the server running, is the port right?');
  });
});
