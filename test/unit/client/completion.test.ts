import { describe, expect, it } from 'vitest';
import { type CompletionContext, complete } from '../../../src/client/ui/completion.js';

const ctx: CompletionContext = {
  users: ['bob', 'Bea', 'carol', 'alice', 'bad name', 'b\u001b[2J', 'charlie'],
  self: 'alice',
};

/** `|` marks the cursor. */
function at(marked: string, context = ctx) {
  const cursor = marked.indexOf('|');
  const line = marked.replace('|', '');
  return complete(line, cursor, context);
}

describe('complete', () => {
  it.each([
    ['/ve|', ['/verify '], 0],
    ['/q|', ['/q ', '/query ', '/quit '], 0],
    ['/M|', ['/me ', '/motd ', '/msg '], 0],
    ['/un|', ['/unban ', '/unignore '], 0],
    ['/e|', ['/exit '], 0],
    ['/zz|', [], 0],
    ['/to b|', ['Bea ', 'bob '], 4],
    ['/msg C|', ['carol ', 'charlie '], 5],
    ['/to |', ['Bea ', 'bob ', 'carol ', 'charlie '], 4],
    ['/verify ca|', ['carol '], 8],
    ['/trust  ch|', ['charlie '], 8],
    ['/help q|', ['q ', 'query ', 'quit '], 6],
    ['/help /ve|', ['verify '], 6],
    ['/clear b|', [], 8],
    ['/list b|', [], 7],
    ['b|', ['Bea: ', 'bob: '], 0],
    ['ch|', ['charlie: '], 0],
    ['hello b|', ['Bea', 'bob'], 6],
    ['/to carol hi b|', ['Bea', 'bob'], 13],
    ['/me waves at c|', ['carol', 'charlie'], 13],
    ['//b|', [], 0],
    ['|', [], 0],
    ['hi |', [], 3],
  ])('%j', (marked, candidates, replaceFrom) => {
    expect(at(marked)).toEqual({ candidates, replaceFrom });
  });

  it('completes the word before the cursor, not the end of the line', () => {
    expect(complete('/to b hello', 5, ctx)).toEqual({
      candidates: ['Bea ', 'bob '],
      replaceFrom: 4,
    });
  });

  it('never offers invalid names, duplicates (by case) or our own name', () => {
    const { candidates } = complete('/fp ', 4, ctx);
    expect(candidates).toEqual(['Bea ', 'bob ', 'carol ', 'charlie ']);
    expect(complete('al', 2, ctx).candidates).toEqual([]);
  });

  it('is stable whatever the order of the user list, one spelling per name', () => {
    const users = ['bob', 'Bea', 'BOB', 'carol'];
    const forward = complete('b', 1, { users }).candidates;
    expect(forward).toEqual(['Bea: ', 'BOB: ']);
    expect(complete('b', 1, { users: [...users].reverse() }).candidates).toEqual(forward);
  });

  it('clamps a cursor outside the line', () => {
    expect(complete('/ve', 99, ctx)).toEqual({ candidates: ['/verify '], replaceFrom: 0 });
    expect(complete('/ve', -5, ctx)).toEqual({ candidates: [], replaceFrom: 0 });
  });

  it('uses a supplied command table', () => {
    const commands = [{ name: 'kick', aliases: ['k'], firstArg: 'user' as const }];
    expect(complete('/k', 2, { users: ['bob'], commands })).toEqual({
      candidates: ['/k ', '/kick '],
      replaceFrom: 0,
    });
    expect(complete('/k b', 4, { users: ['bob'], commands }).candidates).toEqual(['bob ']);
  });
});
