import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../src/client/events.js';
import {
  formatClock,
  type RenderOptions,
  renderEvent,
  renderEvents,
} from '../../../src/client/ui/render.js';
import { NICK_PALETTE, nickColor } from '../../../src/client/ui/theme.js';
import { stripSgr, visibleWidth } from '../../../src/client/ui/wrap.js';
import { ANY_ESCAPE, ATTACKS, anyText, DANGEROUS_IN_LINE } from './fixtures.js';

const TS = Date.UTC(2024, 2, 5, 9, 7, 3);
const utcClock = (date: Date) => date.toISOString().slice(11, 19);
const plain: RenderOptions = { color: false, self: 'alice', timeFormat: utcClock };
const colour: RenderOptions = { ...plain, color: true };
const SGR = /\u001b\[[0-9;]*m/g;

const msg = (over: Partial<Extract<ClientEvent, { kind: 'message' }>>): ClientEvent => ({
  kind: 'message',
  ts: TS,
  direction: 'in',
  from: 'bob',
  to: 'alice',
  text: 'hello',
  protection: 'e2ee-v2',
  ...over,
});

describe('renderEvent, colour off: exact lines', () => {
  it.each<[string, ClientEvent, string[]]>([
    ['v2 message', msg({}), ['[09:07:03] [e2ee] <bob> hello']],
    ['verified sender', msg({ verified: true }), ['[09:07:03] [e2ee] <bob ✓> hello']],
    [
      'legacy v1 peer',
      msg({ protection: 'e2ee-v1', keyStatus: 'legacy' }),
      ['[09:07:03] [e2ee:v1 no-fs] <bob> hello'],
    ],
    [
      'own message',
      msg({ direction: 'out', from: 'alice', to: 'bob', text: 'hi', id: 'c-1' }),
      ['[09:07:03] [e2ee] <alice -> bob> hi'],
    ],
    [
      'own message to a verified peer',
      msg({ direction: 'out', from: 'alice', to: 'bob', text: 'hi', keyStatus: 'verified' }),
      ['[09:07:03] [e2ee] <alice -> bob ✓> hi'],
    ],
    ['action', msg({ text: 'waves', action: true }), ['[09:07:03] [e2ee] * bob waves']],
    [
      'own action',
      msg({ direction: 'out', from: 'alice', to: 'bob', text: 'waves', action: true }),
      ['[09:07:03] [e2ee] * alice (-> bob) waves'],
    ],
    ['changed key', msg({ keyStatus: 'changed' }), ['[09:07:03] [e2ee] [KEY CHANGED] <bob> hello']],
    [
      'bad key signature',
      msg({ keyStatus: 'invalid' }),
      ['[09:07:03] [e2ee] [BAD KEY SIGNATURE] <bob> hello'],
    ],
    [
      'message to a room',
      msg({ to: '#lobby', protection: 'e2ee-room' }),
      ['[09:07:03] [e2ee:room] #lobby bob: hello'],
    ],
    [
      'action in a room',
      msg({ to: '#lobby', protection: 'e2ee-room', action: true }),
      ['[09:07:03] [e2ee:room] #lobby * bob hello'],
    ],
    [
      'multi-line message, indented under the text',
      msg({ text: 'one\n[09:07:04] <carol> fake' }),
      ['[09:07:03] [e2ee] <bob> one', '                        [09:07:04] <carol> fake'],
    ],
    [
      'own /server text',
      msg({ direction: 'out', to: '(server)', from: 'alice', protection: 'server-readable' }),
      ['[09:07:03] [server-readable] (NOT end-to-end encrypted) <alice -> (server)> hello'],
    ],
    [
      'server text',
      { kind: 'server', ts: TS, text: 'echo: hi' },
      ['[09:07:03] [server-readable] (NOT end-to-end encrypted) -server- echo: hi'],
    ],
    ['info', { kind: 'info', ts: TS, text: 'ok' }, ['[09:07:03] -!- ok']],
    [
      'trust alert about a user',
      { kind: 'trust', ts: TS, user: 'bob', code: 'E_DOWNGRADE', text: 'bob offers less' },
      ['[09:07:03] !!! TRUST bob: bob offers less (E_DOWNGRADE)'],
    ],
    [
      'trust alert about the server',
      { kind: 'trust', ts: TS, code: 'E_SERVER_DOWNGRADE', text: 'no ratchet' },
      ['[09:07:03] !!! TRUST SERVER: no ratchet (E_SERVER_DOWNGRADE)'],
    ],
    [
      'undecryptable room message',
      {
        kind: 'undecryptable',
        ts: TS,
        from: 'bob',
        room: '#club',
        code: 'E_DECRYPT_FAILED',
        reason: 'tampered',
      },
      ['[09:07:03] !!! undecryptable message from bob in #club: tampered (E_DECRYPT_FAILED)'],
    ],
    ['warning', { kind: 'warning', ts: TS, text: 'careful' }, ['[09:07:03] !!! careful']],
    [
      'error with code',
      { kind: 'error', ts: TS, text: 'name is taken', code: 'E_NAME_TAKEN' },
      ['[09:07:03] xxx name is taken (E_NAME_TAKEN)'],
    ],
    [
      'join',
      { kind: 'presence', ts: TS, event: 'join', user: 'carol', fingerprint: '0123abcd-4567ef01' },
      ['[09:07:03] --> carol joined (0123abcd-4567ef01)'],
    ],
    [
      'leave',
      { kind: 'presence', ts: TS, event: 'leave', user: 'carol' },
      ['[09:07:03] <-- carol left'],
    ],
    [
      'sent',
      { kind: 'delivery', ts: TS, id: 'c-1', to: 'bob', status: 'sent' },
      ['[09:07:03] -!- msg c-1 to bob: sent'],
    ],
    [
      'delivered',
      { kind: 'delivery', ts: TS, id: 'c-1', to: 'bob', status: 'delivered' },
      ['[09:07:03] -!- msg c-1 to bob: delivered'],
    ],
    [
      'failed',
      { kind: 'delivery', ts: TS, id: 'c-2', to: 'bob', status: 'failed', reason: 'bob left' },
      ['[09:07:03] xxx msg c-2 to bob: failed: bob left'],
    ],
    [
      'connecting',
      { kind: 'connection', ts: TS, status: { state: 'connecting', attempt: 1 } },
      ['[09:07:03] -!- connecting'],
    ],
    [
      'connected',
      {
        kind: 'connection',
        ts: TS,
        status: { state: 'connected', server: 'example.net:5000', fingerprint: 'sha256:ab12' },
      },
      ['[09:07:03] -!- connected to example.net:5000 (server key sha256:ab12)'],
    ],
    [
      'reconnecting',
      {
        kind: 'connection',
        ts: TS,
        status: { state: 'reconnecting', attempt: 3, inMs: 2500, reason: 'ECONNRESET' },
      },
      ['[09:07:03] !!! connection lost: ECONNRESET; reconnecting in 3s (attempt 3)'],
    ],
    [
      'closed',
      { kind: 'connection', ts: TS, status: { state: 'closed', reason: 'server key changed' } },
      ['[09:07:03] xxx disconnected: server key changed'],
    ],
  ])('%s', (_label, event, lines) => {
    expect(renderEvent(event, plain)).toEqual(lines);
  });

  it('lists users with fingerprints and status, aligned', () => {
    const lines = renderEvent(
      {
        kind: 'users',
        ts: TS,
        users: [
          { name: 'alice', fingerprint: 'aaaa1111-bbbb2222', status: 'online', self: true },
          { name: 'bob', fingerprint: 'cccc3333-dddd4444', status: 'verified' },
          { name: 'carol', fingerprint: 'eeee5555-ffff6666', status: 'legacy' },
          { name: 'dave', fingerprint: '01234567-89abcdef', status: 'changed' },
        ],
      },
      plain,
    );
    expect(lines).toEqual([
      '[09:07:03] -!- 4 users online:',
      '                 alice  aaaa1111-bbbb2222  online (you)',
      '                 bob    cccc3333-dddd4444  verified ✓',
      '                 carol  eeee5555-ffff6666  legacy v1: no identity, no forward secrecy',
      '                 dave   01234567-89abcdef  KEY CHANGED: /verify or /trust before talking',
    ]);
    expect(renderEvent({ kind: 'users', ts: TS, users: [] }, plain)).toEqual([
      '[09:07:03] -!- no users online',
    ]);
  });

  it('markers stay distinct without colour', () => {
    const markers = (['e2ee-v2', 'e2ee-v1', 'server-readable'] as const).map(
      (protection) => renderEvent(msg({ protection }), plain)[0]!.split(' ')[1],
    );
    expect(new Set(markers).size).toBe(3);
  });

  it('uses local time by default: HH:MM:SS', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      expect(formatClock(new Date(TS))).toBe('09:07:03');
      expect(renderEvent(msg({}), { color: false, self: 'alice' })).toEqual([
        '[09:07:03] [e2ee] <bob> hello',
      ]);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('falls back to the injected clock for an event without a usable ts', () => {
    const now = () => new Date(Date.UTC(2024, 0, 1, 23, 59, 58));
    expect(renderEvent(msg({ ts: Number.NaN }), { ...plain, now })).toEqual([
      '[23:59:58] [e2ee] <bob> hello',
    ]);
    expect(renderEvent(msg({ ts: 1e20 }), { ...plain, now })[0]).toMatch(/^\[23:59:58\]/);
  });

  it('wraps to the width with a hanging indent under the text', () => {
    const lines = renderEvent(msg({ text: 'lorem ipsum dolor sit amet '.repeat(4).trim() }), {
      ...plain,
      width: 48,
    });
    expect(lines).toEqual([
      '[09:07:03] [e2ee] <bob> lorem ipsum dolor sit',
      '                        amet lorem ipsum dolor',
      '                        sit amet lorem ipsum',
      '                        dolor sit amet lorem',
      '                        ipsum dolor sit amet',
    ]);
  });
});

describe('renderEvent, colour on', () => {
  it('adds SGR colour codes and nothing else', () => {
    const [line] = renderEvent(msg({}), colour);
    expect(line).toMatch(SGR);
    expect(stripSgr(line!)).toBe('[09:07:03] [e2ee] <bob> hello');
  });

  it('gives a nick the same colour every time and different nicks different colours', () => {
    const nickCode = (name: string) => {
      const line = renderEvent(msg({ from: name }), colour)[0]!;
      return /<(\u001b\[[0-9;]*m)/.exec(line)?.[1];
    };
    expect(nickColor('alice')).not.toBe(nickColor('bob'));
    expect(nickCode('bob')).toBeDefined();
    expect(nickCode('bob')).toBe(nickCode('bob'));
    expect(nickCode('bob')).toBe(nickCode('BOB'));
    expect(nickCode('bob')).not.toBe(nickCode('alice'));
  });

  it('spreads nicks over the palette and keeps reserved colours out of it', () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => nickColor(`user${i}`)));
    expect(used.size).toBe(NICK_PALETTE.length);
    for (const reserved of ['red', 'redBright', 'yellow', 'yellowBright', 'cyan', 'cyanBright']) {
      expect(NICK_PALETTE as readonly string[]).not.toContain(reserved);
    }
  });

  it('tells own, system, warning and error lines apart by colour as well', () => {
    const first = (event: ClientEvent) => renderEvent(event, colour)[0]!;
    const own = first(msg({ direction: 'out', from: 'alice', to: 'bob' }));
    expect(own).toContain('\u001b[1malice');
    expect(first({ kind: 'info', ts: TS, text: 'x' })).toContain('\u001b[36m-!-');
    expect(first({ kind: 'warning', ts: TS, text: 'x' })).toContain('\u001b[33m!!!');
    expect(first({ kind: 'error', ts: TS, text: 'x' })).toContain('\u001b[31m');
  });

  it('wraps coloured lines without exceeding the width or leaking colour', () => {
    const lines = renderEvent(msg({ text: 'word '.repeat(40).trim() }), { ...colour, width: 40 });
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(40);
  });
});

/** Every peer-supplied field of every event kind, filled with `payload`. */
function everyField(payload: string): ClientEvent[] {
  const name = `bob${payload}`;
  return [
    msg({ text: payload }),
    msg({ from: name, text: payload, fingerprint: payload }),
    msg({ to: name, direction: 'out', from: 'alice', text: payload, action: true }),
    msg({ from: name, text: payload, action: true, verified: true }),
    { kind: 'server', ts: TS, text: payload },
    { kind: 'presence', ts: TS, event: 'join', user: name, fingerprint: payload },
    { kind: 'presence', ts: TS, event: 'leave', user: name },
    { kind: 'users', ts: TS, users: [{ name, fingerprint: payload, status: 'online' }] },
    { kind: 'info', ts: TS, text: payload, code: payload },
    { kind: 'warning', ts: TS, text: payload },
    { kind: 'error', ts: TS, text: payload, code: payload },
    { kind: 'delivery', ts: TS, id: payload, to: name, status: 'failed', reason: payload },
    { kind: 'connection', ts: TS, status: { state: 'closed', reason: payload } },
    {
      kind: 'connection',
      ts: TS,
      status: { state: 'reconnecting', attempt: 1, inMs: 1000, reason: payload },
    },
    {
      kind: 'connection',
      ts: TS,
      status: { state: 'connected', server: payload, fingerprint: payload },
    },
    { kind: 'trust', ts: TS, user: name, code: payload, text: payload, lost: [payload] },
    { kind: 'trust', ts: TS, code: payload, text: payload },
    { kind: 'undecryptable', ts: TS, from: name, room: name, code: payload, reason: payload },
  ];
}

describe('no attack survives rendering', () => {
  it.each(ATTACKS)('$label, colour off: no control, C1 or format character', ({ payload }) => {
    for (const width of [undefined, 30]) {
      const lines = renderEvents(everyField(payload), { ...plain, width });
      for (const line of lines) {
        expect(line).not.toMatch(DANGEROUS_IN_LINE);
        expect(line).not.toMatch(ANY_ESCAPE);
        expect(line).not.toContain('\n');
        expect(line).not.toContain('\r');
      }
      expect(lines.join('\n')).not.toContain(payload);
    }
  });

  it.each(ATTACKS)('$label, colour on: the only escapes are our SGR codes', ({ payload }) => {
    for (const width of [undefined, 30]) {
      const lines = renderEvents(everyField(payload), { ...colour, width });
      for (const line of lines) {
        expect(line.replace(SGR, '')).not.toMatch(DANGEROUS_IN_LINE);
        expect(line.replace(SGR, '')).not.toMatch(ANY_ESCAPE);
      }
    }
  });

  it('any text at any width: safe, within the width, continuations never in column 0', () => {
    fc.assert(
      fc.property(
        anyText,
        anyText,
        fc.integer({ min: 8, max: 100 }),
        fc.boolean(),
        (text, from, width, color) => {
          const lines = renderEvent(msg({ text, from }), { ...plain, color, width });
          lines.forEach((line, i) => {
            const visible = line.replace(SGR, '');
            expect(visible).not.toMatch(DANGEROUS_IN_LINE);
            expect(visibleWidth(line)).toBeLessThanOrEqual(width);
            if (i > 0) expect(visible.startsWith(' ')).toBe(true);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an unterminated escape in one message leaves the next intact', () => {
    const lines = renderEvents(
      [msg({ text: 'first \u001b]8;;http://evil' }), msg({ text: 'second' })],
      plain,
    );
    expect(lines).toEqual([
      '[09:07:03] [e2ee] <bob> first ^[]8;;http://evil',
      '[09:07:03] [e2ee] <bob> second',
    ]);
  });

  it('shows a homoglyph name escaped, never as the name it imitates', () => {
    const [line] = renderEvent(msg({ from: 'аlice' }), plain);
    expect(line).toBe('[09:07:03] [e2ee] <\\u{0430}lice> hello');
  });
});
