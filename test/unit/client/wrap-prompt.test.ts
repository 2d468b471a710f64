import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPrompt } from '../../../src/client/ui/prompt.js';
import { chalkFor } from '../../../src/client/ui/theme.js';
import { charWidth, stripSgr, visibleWidth, wrapLine } from '../../../src/client/ui/wrap.js';

describe('charWidth / visibleWidth', () => {
  it.each([
    ['a', 1],
    ['é', 1],
    ['\u0301', 0], // combining acute
    ['你', 2],
    ['한', 2],
    ['Ａ', 2], // fullwidth A
    ['😀', 2],
    ['✓', 1],
    ['…', 1],
    ['\ufe0f', 1],
  ])('%s is %i columns', (char, width) => {
    expect(charWidth(char)).toBe(width);
  });

  it('ignores SGR codes', () => {
    const c = chalkFor(true);
    expect(visibleWidth(c.red('abc') + c.bold.green('你好'))).toBe(7);
    expect(stripSgr(c.red('abc'))).toBe('abc');
  });
});

describe('wrapLine', () => {
  it('leaves a line that fits alone', () => {
    expect(wrapLine('short line', 20)).toEqual(['short line']);
    expect(wrapLine('exactly ten', 11)).toEqual(['exactly ten']);
  });

  it('breaks at spaces, with a hanging indent', () => {
    expect(wrapLine('[12:00:00] <bob> one two three four five six', 30, 17)).toEqual([
      '[12:00:00] <bob> one two three',
      '                 four five six',
    ]);
  });

  it('shrinks the indent when too few columns would remain, but never to column 0', () => {
    expect(wrapLine('[12:00:00] <bob> one two three four', 24, 17)).toEqual([
      '[12:00:00] <bob> one two',
      '  three four',
    ]);
    expect(wrapLine('aaa bbb ccc', 4, 2)).toEqual(['aaa', 'bbb', 'ccc']);
    expect(wrapLine('aaa bbb ccc', 4)).toEqual(['aaa', 'bbb', 'ccc']);
  });

  it('splits a word longer than the line', () => {
    expect(wrapLine('x '.concat('a'.repeat(25)), 10)).toEqual([
      'x',
      'aaaaaaaaaa',
      'aaaaaaaaaa',
      'aaaaa',
    ]);
  });

  it('never splits a wide character across the edge', () => {
    expect(wrapLine('你好你好你', 4)).toEqual(['你好', '你好', '你']);
    expect(wrapLine('a你好', 4)).toEqual(['a你', '好']);
  });

  it('closes colours at a break and reopens them on the next line', () => {
    const c = chalkFor(true);
    const lines = wrapLine(c.red('aaa bbb ccc ddd'), 8);
    expect(lines.map(stripSgr)).toEqual(['aaa bbb', 'ccc ddd']);
    expect(lines[0]).toBe('\u001b[31maaa bbb\u001b[0m');
    expect(lines[1]).toBe('\u001b[31mccc ddd\u001b[39m');
  });

  it('treats an unusable width as the minimum and infinity as no wrapping', () => {
    for (const line of wrapLine('abc 你', 0)) expect(visibleWidth(line)).toBeLessThanOrEqual(2);
    expect(wrapLine('a b c', Number.POSITIVE_INFINITY)).toEqual(['a b c']);
  });

  const word = fc.string({
    unit: fc.constantFrom('a', 'b', 'é', '你', '😀', '\u0301', 'x'),
    minLength: 1,
    maxLength: 30,
  });
  const words = fc.array(word, { maxLength: 25 });
  const styled = fc.tuple(words, fc.boolean()).map(([list, color]) => {
    const c = chalkFor(color);
    return list.map((w, i) => (i % 3 === 0 ? c.green(w) : w)).join(' ');
  });

  it('no line exceeds the width, and no visible character is lost', () => {
    fc.assert(
      fc.property(
        styled,
        fc.integer({ min: 2, max: 120 }),
        fc.integer({ min: 0, max: 60 }),
        (line, width, indent) => {
          const lines = wrapLine(line, width, indent);
          for (const out of lines) {
            expect(visibleWidth(out)).toBeLessThanOrEqual(width);
            expect(out).not.toMatch(/[\n\r]/);
          }
          const squash = (s: string) => stripSgr(s).replace(/ /g, '');
          expect(lines.map(squash).join('')).toBe(squash(line));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('formatPrompt', () => {
  const connected = { state: 'connected', server: 'h:1', fingerprint: 'sha256:aa' } as const;

  it.each([
    [{ target: 'bob', connection: connected }, '[bob] > '],
    [{ target: '#lobby', connection: connected }, '[#lobby (public)] > '],
    [{ target: '#dev', connection: connected }, '[#dev] > '],
    [{ connection: connected }, '[no target] > '],
    [
      {
        target: 'bob',
        connection: { state: 'reconnecting', attempt: 2, inMs: 2200, reason: 'x' },
      },
      '[bob] (reconnecting 3s) > ',
    ],
    [{ connection: { state: 'connecting', attempt: 1 } }, '[no target] (connecting) > '],
    [{ target: 'bob', connection: { state: 'closed', reason: 'x' } }, '[bob] (offline) > '],
    [
      { target: 'bob', connection: connected, unread: { carol: 2, bob: 5, dave: 1, erin: 0 } },
      '[bob] +2 carol +1 dave > ',
    ],
    [
      {
        target: 'bob',
        connection: connected,
        unread: new Map([
          ['e', 1],
          ['d', 1],
          ['c', 1],
          ['b', 1],
          ['a', 1],
        ]),
        maxUnread: 2,
      },
      '[bob] +1 a +1 b +3 more > ',
    ],
  ] as const)('%o', (state, prompt) => {
    expect(formatPrompt(state)).toBe(prompt);
  });

  it('sanitizes names in the prompt', () => {
    expect(
      formatPrompt({
        target: 'bob\u001b[2J',
        connection: connected,
        unread: { 'x\u202ey': 1 },
      }),
    ).toBe('[bob^[[2J] +1 x\\u{202E}y > ');
  });

  it('colours when asked', () => {
    const prompt = formatPrompt({
      target: 'bob',
      connection: connected,
      unread: { carol: 1 },
      color: true,
    });
    expect(prompt).toContain('\u001b[');
    expect(stripSgr(prompt)).toBe('[bob] +1 carol > ');
  });
});
