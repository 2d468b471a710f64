/**
 * The line editing of the questions asked before a session starts (ui/prompts.ts), apart
 * from the terminal so it can be tested: keys come in as chunks of raw-mode input, the
 * editor says what to echo and when the answer is complete or the question was aborted.
 *
 * Enter ends the line; Ctrl-C aborts; Ctrl-D aborts on an empty line (end of input);
 * Backspace/DEL erase one character, Ctrl-U the whole line; escape sequences (arrows,
 * function keys) and other control characters are ignored. A secret line echoes nothing.
 */

export type EditorResult =
  | { kind: 'more' }
  | { kind: 'done'; line: string }
  | { kind: 'abort'; reason: 'interrupt' | 'eof' };

export class LineEditor {
  #chars: string[] = [];
  #secret: boolean;
  /** What to write to the terminal for the keys fed so far (taken by {@link takeEcho}). */
  #echo = '';
  /** Inside an escape sequence: skip until its final byte. */
  #escape: 'none' | 'start' | 'csi' | 'ss3' = 'none';

  constructor(options: { secret?: boolean } = {}) {
    this.#secret = options.secret === true;
  }

  get line(): string {
    return this.#chars.join('');
  }

  takeEcho(): string {
    const echo = this.#echo;
    this.#echo = '';
    return echo;
  }

  /** Feeds raw input; stops at the first key that ends the question. */
  feed(chunk: string): EditorResult {
    for (const ch of chunk) {
      const result = this.#key(ch);
      if (result.kind !== 'more') return result;
    }
    return { kind: 'more' };
  }

  #key(ch: string): EditorResult {
    if (this.#escape !== 'none') {
      this.#skipEscape(ch);
      return { kind: 'more' };
    }
    switch (ch) {
      case '\r':
      case '\n':
        return { kind: 'done', line: this.line };
      case '\x03':
        return { kind: 'abort', reason: 'interrupt' };
      case '\x04':
        return this.#chars.length === 0 ? { kind: 'abort', reason: 'eof' } : { kind: 'more' };
      case '\x7f':
      case '\b':
        if (this.#chars.pop() !== undefined && !this.#secret) this.#echo += '\b \b';
        return { kind: 'more' };
      case '\x15':
        if (!this.#secret) this.#echo += '\b \b'.repeat(this.#chars.length);
        this.#chars = [];
        return { kind: 'more' };
      case '\x1b':
        this.#escape = 'start';
        return { kind: 'more' };
    }
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x80 && code < 0xa0)) return { kind: 'more' };
    this.#chars.push(ch);
    if (!this.#secret) this.#echo += ch;
    return { kind: 'more' };
  }

  #skipEscape(ch: string): void {
    if (this.#escape === 'start') {
      this.#escape = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : 'none';
      return;
    }
    // CSI ends with a byte in @..~; SS3 is one more byte.
    const code = ch.codePointAt(0) ?? 0;
    if (this.#escape === 'ss3' || (code >= 0x40 && code <= 0x7e)) this.#escape = 'none';
  }
}
