import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isDangerousChar,
  placeholderFor,
  sanitizeName,
  sanitizeText,
  truncate,
} from '../../../src/client/ui/sanitize.js';
import { ATTACKS, anyText, DANGEROUS_IN_LINE, DANGEROUS_MULTILINE } from './fixtures.js';

describe('sanitizeText: what a peer could send', () => {
  it.each(ATTACKS)('$label is neutralized', ({ payload, shown }) => {
    const out = sanitizeText(payload);
    expect(out).toBe(shown);
    expect(out).not.toMatch(DANGEROUS_IN_LINE);
  });

  it('an unterminated escape at the end swallows nothing after it', () => {
    const first = sanitizeText('look here\u001b]8;;http://evil.example');
    expect(first).toBe('look here^[]8;;http://evil.example');
    expect(`${first}\n${sanitizeText('next message')}`).toContain('next message');
    expect(sanitizeText('\u001b[')).toBe('^[[');
    expect(sanitizeText('\u001bP')).toBe('^[P');
  });

  it.each([
    ['DCS', '\u001bPq#0;2;0;0;0\u001b\\', '^[Pq#0;2;0;0;0^[\\'],
    ['APC', '\u001b_Gf=100;AAAA\u001b\\', '^[_Gf=100;AAAA^[\\'],
    ['PM', '\u001b^secret\u001b\\', '^[^secret^[\\'],
    ['SOS', '\u001bXsos\u001b\\', '^[Xsos^[\\'],
    ['C1 OSC + ST', '\u009d0;title\u009c', '\\u{009D}0;title\\u{009C}'],
    ['C1 DCS', '\u0090q\u009c', '\\u{0090}q\\u{009C}'],
  ])('%s strings become visible text', (_label, payload, shown) => {
    expect(sanitizeText(payload)).toBe(shown);
  });

  it('uses caret notation for every C0 control and DEL', () => {
    for (let code = 0; code < 0x20; code++) {
      expect(sanitizeText(String.fromCharCode(code))).toBe(`^${String.fromCharCode(code + 0x40)}`);
    }
    expect(sanitizeText('\u007f')).toBe('^?');
  });

  it('uses \\u{…} for C1, format characters, separators and lone surrogates', () => {
    for (let code = 0x80; code <= 0x9f; code++) {
      const hex = code.toString(16).toUpperCase().padStart(4, '0');
      expect(sanitizeText(String.fromCharCode(code))).toBe(`\\u{${hex}}`);
    }
    const cases: Array<[string, string]> = [
      ['\u202a', '\\u{202A}'],
      ['\u202e', '\\u{202E}'],
      ['\u2066', '\\u{2066}'],
      ['\u2069', '\\u{2069}'],
      ['\u200e', '\\u{200E}'],
      ['\u200f', '\\u{200F}'],
      ['\u061c', '\\u{061C}'],
      ['\u200b', '\\u{200B}'],
      ['\u200d', '\\u{200D}'],
      ['\ufeff', '\\u{FEFF}'],
      ['\u00ad', '\\u{00AD}'],
      ['\ufff9', '\\u{FFF9}'],
      ['\ufffa', '\\u{FFFA}'],
      ['\ufffb', '\\u{FFFB}'],
      ['\u2028', '\\u{2028}'],
      ['\u2029', '\\u{2029}'],
      ['\u{e0041}', '\\u{E0041}'],
      ['\ud800', '\\u{D800}'],
      ['\udfff', '\\u{DFFF}'],
    ];
    for (const [input, shown] of cases) expect(sanitizeText(`a${input}b`)).toBe(`a${shown}b`);
  });

  it('keeps ordinary text, including non-ASCII letters, emoji and valid surrogate pairs', () => {
    const text = 'héllo wörld, 你好, Привет, 😀 👍🏽 (≥ 1) ~^[ literal';
    expect(sanitizeText(text)).toBe(text);
  });

  it('keeps \\n only when multiline is asked for, and never \\r', () => {
    expect(sanitizeText('a\nb')).toBe('a^Jb');
    expect(sanitizeText('a\nb', { multiline: true })).toBe('a\nb');
    expect(sanitizeText('a\r\nb', { multiline: true })).toBe('a^M\nb');
    expect(sanitizeText('evil\rok', { multiline: true })).toBe('evil^Mok');
  });

  it('caps the length in code points with an ellipsis', () => {
    expect(sanitizeText('abcdef', { maxLength: 4 })).toBe('abc…');
    expect(sanitizeText('abcd', { maxLength: 4 })).toBe('abcd');
    expect(sanitizeText('😀😀😀😀', { maxLength: 3 })).toBe('😀😀…');
    expect(sanitizeText('\u001b[2J', { maxLength: 3 })).toBe('^[…');
    expect(sanitizeText('abcdef', { maxLength: 4, ellipsis: '\u001b>' })).toBe('a^[>');
    expect(truncate('abc', 0)).toBe('');
    expect(truncate('abcdef', 1)).toBe('…');
  });
});

describe('sanitizeText: properties', () => {
  it('leaves no dangerous character in single-line output', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(sanitizeText(text)).not.toMatch(DANGEROUS_IN_LINE);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves no dangerous character but \\n in multi-line output', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(sanitizeText(text, { multiline: true })).not.toMatch(DANGEROUS_MULTILINE);
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent, with and without a length cap', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        (text, multiline, maxLength) => {
          const opts = maxLength === undefined ? { multiline } : { multiline, maxLength };
          const once = sanitizeText(text, opts);
          expect(sanitizeText(once, opts)).toBe(once);
          if (maxLength !== undefined)
            expect(Array.from(once).length).toBeLessThanOrEqual(maxLength);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('agrees with isDangerousChar, one code point at a time', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        for (const char of text) {
          const out = sanitizeText(char);
          expect(out === char).toBe(!isDangerousChar(char));
          if (out !== char) expect(out).toBe(placeholderFor(char));
        }
      }),
    );
  });

  it('handles a megabyte of escape sequences in one pass', () => {
    const attack = '\u001b]52;c;'.repeat(100_000);
    const out = sanitizeText(attack);
    expect(out.startsWith('^[]52;c;^[]52;c;')).toBe(true);
    expect(out).not.toMatch(DANGEROUS_IN_LINE);
  });
});

describe('sanitizeName', () => {
  it.each(['alice', 'Bob_2', 'x', 'a.b-c', 'A'.repeat(32)])(
    'leaves the valid name %s alone',
    (name) => {
      expect(sanitizeName(name)).toBe(name);
    },
  );

  it.each([
    ['Cyrillic homoglyph', 'аlice', '\\u{0430}lice'],
    ['space', 'bob (verified)', 'bob\\u{0020}(verified)'],
    ['escape', 'bob\u001b[2J', 'bob^[[2J'],
    ['bidi override', 'bob\u202eecila', 'bob\\u{202E}ecila'],
    ['newline', 'bob\n[12:00:00] <alice>', 'bob^J[12:00:00]\\u{0020}<alice>'],
    ['empty', '', '\\u{}'],
  ])('escapes a %s', (_label, name, shown) => {
    expect(sanitizeName(name)).toBe(shown);
  });

  it('caps long names and stays idempotent', () => {
    const long = 'é'.repeat(100);
    const shown = sanitizeName(long);
    expect(Array.from(shown).length).toBeLessThanOrEqual(48);
    expect(shown.endsWith('…')).toBe(true);
    expect(sanitizeName(shown)).toBe(shown);
  });

  it('only ever outputs printable ASCII (and the ellipsis), idempotently', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const shown = sanitizeName(name);
        expect(shown).toMatch(/^[\u0021-\u007e\u2026]+$/);
        expect(sanitizeName(shown)).toBe(shown);
      }),
      { numRuns: 2000 },
    );
  });
});
