import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  editDistance,
  helpText,
  type ParsedInput,
  parseInput,
  suggestCommand,
} from '../../../src/client/commands/index.js';

const SAFETY = '12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890';
const SAFETY_DIGITS = SAFETY.replace(/ /g, '');

describe('parseInput: plain lines', () => {
  it.each<[string, ParsedInput]>([
    ['hello', { kind: 'text', text: 'hello' }],
    ['  indented /not a command', { kind: 'text', text: '  indented /not a command' }],
    ['//shrug', { kind: 'text', text: '/shrug' }],
    ['// two', { kind: 'text', text: '/ two' }],
    ['///', { kind: 'text', text: '//' }],
    ['', { kind: 'empty' }],
    ['   \t ', { kind: 'empty' }],
  ])('%j', (line, parsed) => {
    expect(parseInput(line)).toEqual(parsed);
  });
});

describe('parseInput: every command and alias', () => {
  it.each<[string, ParsedInput]>([
    ['/list', { kind: 'command', name: 'list' }],
    ['/who', { kind: 'command', name: 'list' }],
    ['/list #lobby', { kind: 'command', name: 'list', room: '#lobby' }],
    ['/fp bob', { kind: 'command', name: 'fp', user: 'bob' }],
    ['/to bob hi there', { kind: 'command', name: 'to', user: 'bob', text: 'hi there' }],
    ['/msg bob hi', { kind: 'command', name: 'to', user: 'bob', text: 'hi' }],
    ['/to bob   spaced  out ', { kind: 'command', name: 'to', user: 'bob', text: 'spaced  out ' }],
    ['/to\tbob\thi', { kind: 'command', name: 'to', user: 'bob', text: 'hi' }],
    ['/query bob', { kind: 'command', name: 'query', user: 'bob' }],
    ['/q bob', { kind: 'command', name: 'query', user: 'bob' }],
    ['/query', { kind: 'command', name: 'query' }],
    ['/q   ', { kind: 'command', name: 'query' }],
    ['/me waves', { kind: 'command', name: 'me', text: 'waves' }],
    ['/server hello', { kind: 'command', name: 'server', text: 'hello' }],
    ['/clear', { kind: 'command', name: 'clear' }],
    ['/help', { kind: 'command', name: 'help' }],
    ['/help to', { kind: 'command', name: 'help', topic: 'to' }],
    ['/help /msg', { kind: 'command', name: 'help', topic: 'to' }],
    ['/quit', { kind: 'command', name: 'quit' }],
    ['/exit', { kind: 'command', name: 'quit' }],
    ['/ignore bob', { kind: 'command', name: 'ignore', user: 'bob' }],
    ['/unignore bob', { kind: 'command', name: 'unignore', user: 'bob' }],
    ['/trust bob', { kind: 'command', name: 'trust', user: 'bob' }],
    ['/trust --server', { kind: 'command', name: 'trust', server: true }],
    ['/verify bob', { kind: 'command', name: 'verify', user: 'bob' }],
    [
      `/verify bob ${SAFETY}`,
      { kind: 'command', name: 'verify', user: 'bob', safetyNumber: SAFETY_DIGITS },
    ],
    [
      `/verify bob ${SAFETY_DIGITS}`,
      { kind: 'command', name: 'verify', user: 'bob', safetyNumber: SAFETY_DIGITS },
    ],
    ['/reconnect', { kind: 'command', name: 'reconnect' }],
    ['/TO Bob hi', { kind: 'command', name: 'to', user: 'Bob', text: 'hi' }],
    ['/msg #lobby hola', { kind: 'command', name: 'to', user: '#lobby', text: 'hola' }],
    ['/query #lobby', { kind: 'command', name: 'query', user: '#lobby' }],
    [
      '/join #ops s3cret pw',
      { kind: 'command', name: 'join', room: '#ops', password: 's3cret pw' },
    ],
    ['/j #ops', { kind: 'command', name: 'join', room: '#ops' }],
    ['/part', { kind: 'command', name: 'part' }],
    ['/leave #ops', { kind: 'command', name: 'part', room: '#ops' }],
    ['/rooms', { kind: 'command', name: 'rooms' }],
    ['/rooms #m', { kind: 'command', name: 'rooms', after: '#m' }],
    ['/topic #ops new topic', { kind: 'command', name: 'topic', room: '#ops', text: 'new topic' }],
    ['/topic', { kind: 'command', name: 'topic' }],
    ['/op #ops bob', { kind: 'command', name: 'op', room: '#ops', user: 'bob' }],
    ['/deop bob', { kind: 'command', name: 'deop', user: 'bob' }],
    [
      '/kick #ops bob go away',
      { kind: 'command', name: 'kick', room: '#ops', user: 'bob', reason: 'go away' },
    ],
    [
      '/ban bob 2h spam',
      { kind: 'command', name: 'ban', user: 'bob', duration: 7200, reason: 'spam' },
    ],
    [
      '/ban #ops bob flooding',
      { kind: 'command', name: 'ban', room: '#ops', user: 'bob', reason: 'flooding' },
    ],
    ['/unban #ops bob', { kind: 'command', name: 'unban', room: '#ops', user: 'bob' }],
    [
      '/password #ops hunter2',
      { kind: 'command', name: 'password', room: '#ops', password: 'hunter2' },
    ],
    ['/pass', { kind: 'command', name: 'password' }],
    ['/motd be nice', { kind: 'command', name: 'motd', text: 'be nice' }],
    ['/Quit', { kind: 'command', name: 'quit' }],
    ['/window 3', { kind: 'command', name: 'window', number: 3 }],
    ['/win', { kind: 'command', name: 'window' }],
    ['/to a.b_c-d x', { kind: 'command', name: 'to', user: 'a.b_c-d', text: 'x' }],
    ['/send bob ./a b.pdf', { kind: 'command', name: 'send', target: 'bob', path: './a b.pdf' }],
    ['/file #ops x', { kind: 'command', name: 'send', target: '#ops', path: 'x' }],
    ['/accept', { kind: 'command', name: 'accept' }],
    ['/accept 3F9A2c', { kind: 'command', name: 'accept', id: '3f9a2c' }],
    ['/reject 3f9a', { kind: 'command', name: 'reject', id: '3f9a' }],
    ['/decline', { kind: 'command', name: 'reject' }],
    ['/cancel ab', { kind: 'command', name: 'cancel', id: 'ab' }],
    ['/transfers', { kind: 'command', name: 'transfers' }],
  ])('%j', (line, parsed) => {
    expect(parseInput(line)).toEqual(parsed);
  });

  it('covers every command in the table', () => {
    const names = new Set(COMMANDS.map((c) => c.name));
    expect(names).toEqual(
      new Set([
        'join',
        'part',
        'rooms',
        'topic',
        'op',
        'deop',
        'kick',
        'ban',
        'unban',
        'password',
        'motd',
        'list',
        'fp',
        'to',
        'query',
        'me',
        'server',
        'clear',
        'help',
        'quit',
        'ignore',
        'unignore',
        'trust',
        'verify',
        'reconnect',
        'window',
        'send',
        'accept',
        'reject',
        'transfers',
        'cancel',
      ]),
    );
  });
});

describe('parseInput: invalid input', () => {
  it.each<[string, RegExp, string | undefined]>([
    ['/fp bob carol', /takes one user name/, '/fp [user]'],
    ['/send bob', /file path is required/, '/send <user|#room> <path>'],
    ['/send ../x y', /invalid user name/, '/send <user|#room> <path>'],
    ['/accept ../../x', /not a transfer id/, '/accept [id]'],
    ['/transfers x', /takes no arguments/, '/transfers'],
    ['/to', /user name is required/, '/to <user|#room> <text>'],
    ['/to bob', /message is required/, '/to <user|#room> <text>'],
    ['/to bob    ', /message is required/, '/to <user|#room> <text>'],
    ['/msg bob', /^\/msg: a message is required/, '/to <user|#room> <text>'],
    ['/me', /action is required/, '/me <action>'],
    ['/server  ', /text is required/, '/server <text>'],
    ['/query bob carol', /takes one user or room/, '/query [user|#room]'],
    ['/ignore', /user name is required/, '/ignore <user>'],
    ['/unignore a b', /takes one user name/, '/unignore <user>'],
    ['/trust', /user name is required/, '/trust <user> | /trust --server'],
    ['/clear now', /takes no arguments/, '/clear'],
    ['/quit bye', /takes no arguments/, '/quit'],
    ['/reconnect 5', /takes no arguments/, '/reconnect'],
    ['/list lobby', /not a room/, '/list [#room]'],
    ['/list #a #b', /at most one/, '/list [#room]'],
    ['/help a b', /at most one/, '/help [command]'],
    ['/help nope', /unknown command "nope"/, '/help [command]'],
    ['/help verfy', /did you mean \/verify/, '/help [command]'],
    ['/verify', /user name is required/, '/verify <user> [number]'],
    ['/verify bob 12345', /60 digits \(12 groups of 5\)/, '/verify <user> [number]'],
    [`/verify bob ${SAFETY} 1`, /60 digits/, '/verify <user> [number]'],
    ['/verify bob 1234x 67890', /60 digits/, '/verify <user> [number]'],
    ['/', /must follow/, undefined],
    ['/ to bob', /must follow/, undefined],
  ])('%j', (line, error, usage) => {
    const parsed = parseInput(line);
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.error).toMatch(error);
    expect(parsed.usage).toBe(usage);
  });

  it.each([
    ['bad name', '/to "bob" hi'],
    ['space-free but non-ASCII', '/fp bоb'],
    ['too long', `/fp ${'a'.repeat(33)}`],
    ['control character', '/trust bob\u001b[2J'],
    ['room where a user is due', '/fp #lobby'],
    ['slash', '/ignore a/b'],
  ])('rejects an invalid user name: %s', (_label, line) => {
    const parsed = parseInput(line);
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind === 'invalid') expect(parsed.error).toMatch(/invalid user name/);
  });

  it.each([
    ['/verfy bob', '/verify'],
    ['/lst', '/list'],
    ['/mgs bob hi', '/msg'],
    ['/quti', '/quit'],
    ['/recon', '/reconnect'],
    ['/hlep', '/help'],
    ['/unignor bob', '/unignore'],
    ['/ver', '/verify'],
  ])('suggests the closest command for %j', (line, suggestion) => {
    const parsed = parseInput(line);
    expect(parsed).toMatchObject({ kind: 'invalid', suggestion });
    if (parsed.kind === 'invalid') expect(parsed.error).toContain(`did you mean ${suggestion}?`);
  });

  it.each(['/xyzzy', '/x', '/zzzzzzzz'])('does not guess wildly for %j', (line) => {
    const parsed = parseInput(line);
    expect(parsed.kind).toBe('invalid');
    if (parsed.kind !== 'invalid') return;
    expect(parsed.suggestion).toBeUndefined();
    expect(parsed.error).toMatch(/unknown command .* \(see \/help\)/);
  });

  it('keeps the echo of a huge unknown command short', () => {
    const parsed = parseInput(`/${'z'.repeat(10_000)}`);
    expect(parsed.kind === 'invalid' && parsed.error.length < 100).toBe(true);
  });
});

describe('suggestions and help', () => {
  it('measures edit distance with transpositions', () => {
    expect(editDistance('quit', 'quti')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(suggestCommand('')).toBeUndefined();
  });

  it('lists every command and alias in the full help', () => {
    const text = helpText();
    for (const command of COMMANDS) {
      expect(text).toContain(command.usage);
      for (const alias of command.aliases) expect(text).toContain(`/${alias}`);
    }
    expect(text).toContain('//');
  });

  it.each([
    ['to', '/to <user|#room> <text> (alias /msg)'],
    ['/msg', '/to <user|#room> <text> (alias /msg)'],
    ['verify', '/verify <user> [number]'],
    ['QUIT', '/quit (alias /exit)'],
  ])('explains one command: %s', (topic, first) => {
    const lines = helpText(topic).split('\n');
    expect(lines[0]).toBe(first);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('answers an unknown topic with a suggestion', () => {
    expect(helpText('verfy')).toBe(
      'No such command. Did you mean /verify? Type /help for the list.',
    );
    expect(helpText('zzz')).toBe('No such command. Type /help for the list.');
  });
});
