/**
 * Issue 15, windows: each window keeps its own bounded scrollback, lines are routed to the
 * window they belong to, F-keys and Alt-digits select windows, and the terminal's window
 * list starts with the status window.
 */
import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../src/client/events.js';
import { Protection } from '../../../src/client/events.js';
import { ConversationState } from '../../../src/client/ui/conversations.js';
import { windowForKey } from '../../../src/client/ui/keys.js';
import { formatPrompt } from '../../../src/client/ui/prompt.js';
import { renderEvent } from '../../../src/client/ui/render.js';
import { paintEntry, Scrollback } from '../../../src/client/ui/scrollback.js';
import {
  LOBBY,
  STATUS_WINDOW,
  WindowBuffers,
  type WindowView,
  windowsFor,
} from '../../../src/client/ui/windows.js';
import { visibleWidth } from '../../../src/client/ui/wrap.js';

const entry = (text: string, id?: string) => ({
  lines: [text],
  indent: 4,
  ...(id === undefined ? {} : { id }),
});
const texts = (rows: Array<{ text: string }>) => rows.map((r) => r.text);

describe('Scrollback', () => {
  it('keeps at most maxEntries, dropping the oldest', () => {
    const ring = new Scrollback({ maxEntries: 3 });
    const dropped = ['a', 'b', 'c', 'd', 'e'].flatMap((t) => ring.push(entry(t)));
    expect(ring.entries().map((e) => e.lines[0])).toEqual(['c', 'd', 'e']);
    expect(dropped.map((e) => e.lines[0])).toEqual(['a', 'b']);
  });

  it('keeps at most maxBytes of text, but always the newest entry', () => {
    const ring = new Scrollback({ maxBytes: 1000 });
    for (let i = 0; i < 20; i++) ring.push(entry('x'.repeat(100)));
    expect(ring.bytes).toBeLessThanOrEqual(1000);
    expect(ring.size).toBeGreaterThan(1);
    expect(ring.size).toBeLessThan(20);
    ring.push(entry('y'.repeat(5000)));
    expect(ring.size).toBe(1);
    expect(ring.entries()[0]!.lines[0]).toBe('y'.repeat(5000));
  });

  it('counts UTF-8 bytes, not characters', () => {
    const ascii = new Scrollback();
    const wide = new Scrollback();
    ascii.push(entry('a'.repeat(100)));
    wide.push(entry('\u00e9'.repeat(100)));
    expect(wide.bytes - ascii.bytes).toBe(100);
  });

  it('tail: the last rows at a width, wrapped with the hanging indent, oldest first', () => {
    const ring = new Scrollback();
    ring.push(entry('one'));
    ring.push({ lines: ['[T] bob: aaaa bbbb cccc dddd'], indent: 9 });
    ring.push(entry('three'));
    expect(texts(ring.tail(10, 22))).toEqual([
      'one',
      '[T] bob: aaaa bbbb',
      '         cccc dddd',
      'three',
    ]);
    expect(texts(ring.tail(2, 22))).toEqual(['         cccc dddd', 'three']);
    expect(texts(ring.tail(0, 22))).toEqual([]);
    // At another width the same entries wrap differently (a resize repaints).
    expect(texts(ring.tail(10, 80))).toEqual(['one', '[T] bob: aaaa bbbb cccc dddd', 'three']);
  });

  it('paints a delivery mark after the message, and says where the message row is', () => {
    const e = { ...entry('<alice -> bob> hi', 'm1'), mark: '\u2713\u2713' };
    const rows = paintEntry(e, 40);
    expect(texts(rows)).toEqual(['<alice -> bob> hi \u2713\u2713']);
    expect(rows[0]!.message).toEqual({ id: 'm1', line: '<alice -> bob> hi' });
    // No room for the mark on the row: it gets a row of its own, not marked in place.
    const narrow = paintEntry(e, 18);
    expect(narrow.every((r) => visibleWidth(r.text) <= 18)).toBe(true);
    expect(narrow[narrow.length - 1]!.text.trim()).toBe('\u2713\u2713');
  });
});

describe('WindowBuffers', () => {
  it('keeps each window apart', () => {
    const buffers = new WindowBuffers();
    buffers.append(['bob'], entry('from bob'));
    buffers.append(['#dev'], entry('in dev'));
    expect(texts(buffers.buffer('bob')!.tail(10, 80))).toEqual(['from bob']);
    expect(texts(buffers.buffer('#dev')!.tail(10, 80))).toEqual(['in dev']);
  });

  it('a mark updates the kept line in every window holding the message', () => {
    const buffers = new WindowBuffers();
    buffers.append(['carol', LOBBY], entry('<alice -> carol> hi', 'm1'));
    expect(buffers.mark('m1', '\u2713\u2713')).toEqual(['carol', LOBBY]);
    expect(texts(buffers.buffer('carol')!.tail(1, 80))).toEqual([
      '<alice -> carol> hi \u2713\u2713',
    ]);
    expect(texts(buffers.buffer(LOBBY)!.tail(1, 80))).toEqual(['<alice -> carol> hi \u2713\u2713']);
    expect(buffers.mark('unknown', '\u2713')).toEqual([]);
  });

  it('forgets the ids of messages dropped from every window (the index stays bounded)', () => {
    const buffers = new WindowBuffers({ maxEntries: 2 });
    buffers.append(['bob'], entry('1', 'm1'));
    buffers.append(['bob'], entry('2', 'm2'));
    buffers.append(['bob'], entry('3', 'm3'));
    expect(buffers.mark('m1', '\u2713')).toEqual([]);
    expect(buffers.mark('m3', '\u2713')).toEqual(['bob']);
    expect(buffers.indexed).toBe(2);
    buffers.clear('bob');
    expect(buffers.indexed).toBe(0);
    expect(buffers.buffer('bob')!.size).toBe(0);
  });

  it('holds at most MAX_WINDOWS + 1 buffers, dropping the least recently written', () => {
    const buffers = new WindowBuffers();
    buffers.append([STATUS_WINDOW], entry('status'));
    buffers.append(['u0'], entry('first', 'm0'));
    for (let i = 1; i < 150; i++) {
      buffers.append([`u${i}`], entry('x'));
      buffers.append(['u1'], entry('kept busy'));
    }
    expect(buffers.size).toBe(100);
    expect(buffers.buffer(STATUS_WINDOW)?.size).toBe(1);
    expect(buffers.buffer('u1')).toBeDefined();
    expect(buffers.buffer('u149')).toBeDefined();
    expect(buffers.buffer('u0')).toBeUndefined();
    expect(buffers.mark('m0', '\u2713')).toEqual([]); // its index went with it
  });
});

describe('which window a line belongs to', () => {
  const view = (active: string, open: string[] = [LOBBY]): WindowView => ({
    active,
    isOpen: (key) => open.includes(key),
    self: 'alice',
  });
  const message = (over: Partial<Extract<ClientEvent, { kind: 'message' }>>): ClientEvent => ({
    kind: 'message',
    ts: 0,
    direction: 'in',
    from: 'Bob',
    to: 'alice',
    text: 'hi',
    protection: Protection.ratchet,
    ...over,
  });

  it.each([
    ['a direct message: the sender', message({}), view(LOBBY), ['bob']],
    ['a room line: the room', message({ to: '#Dev' }), view(LOBBY), ['#dev']],
    [
      'ours: its conversation and where it was typed',
      message({ direction: 'out', from: 'alice', to: 'carol' }),
      view(LOBBY),
      ['carol', LOBBY],
    ],
    [
      'ours, typed in its window: once',
      message({ direction: 'out', from: 'alice', to: 'carol' }),
      view('carol'),
      ['carol'],
    ],
    [
      'a room event: the room',
      { kind: 'room', ts: 0, room: '#dev', event: 'join', user: 'bob' },
      view(LOBBY),
      ['#dev'],
    ],
    [
      'we were kicked: the room and the active window',
      { kind: 'room', ts: 0, room: '#dev', event: 'kick', user: 'Alice', by: 'bob' },
      view('bob'),
      ['#dev', 'bob'],
    ],
    [
      'presence: the lobby, and the peer window when open',
      { kind: 'presence', ts: 0, event: 'leave', user: 'bob' },
      view('#dev', [LOBBY, 'bob']),
      [LOBBY, 'bob'],
    ],
    [
      'presence without a lobby: the status window',
      { kind: 'presence', ts: 0, event: 'join', user: 'bob' },
      view('#dev', []),
      [STATUS_WINDOW],
    ],
    [
      'a connection change: status and the active window',
      { kind: 'connection', ts: 0, status: { state: 'closed', reason: 'x' } },
      view('#dev'),
      [STATUS_WINDOW, '#dev'],
    ],
    [
      'a command error: the active window',
      { kind: 'error', ts: 0, text: 'no such user', code: 'E_USAGE' },
      view('#dev'),
      ['#dev'],
    ],
    [
      'a delivery line: the recipient',
      { kind: 'delivery', ts: 0, id: 'm1', to: 'Carol', status: 'failed' },
      view('#dev'),
      ['carol'],
    ],
    [
      'undecryptable in a room: the room',
      { kind: 'undecryptable', ts: 0, from: 'x', room: '#dev', code: 'E', reason: 'r' },
      view(LOBBY),
      ['#dev'],
    ],
    [
      'undecryptable from someone without a window: the active window',
      { kind: 'undecryptable', ts: 0, from: 'mallory', code: 'E', reason: 'r' },
      view(LOBBY),
      [LOBBY],
    ],
  ] as Array<[string, ClientEvent, WindowView, string[]]>)('%s', (_what, event, v, want) => {
    expect(windowsFor(event, v)).toEqual(want);
  });
});

describe('window keys', () => {
  it.each([
    ['\x1b1', 1],
    ['\x1b9', 9],
    ['\x1b0', 10],
    ['\x1bOP', 1],
    ['\x1bOQ', 2],
    ['\x1bOR', 3],
    ['\x1bOS', 4],
    ['\x1b[11~', 1],
    ['\x1b[14~', 4],
    ['\x1b[[A', 1],
    ['\x1b[[E', 5],
    ['\x1b[15~', 5],
    ['\x1b[17~', 6],
    ['\x1b[18~', 7],
    ['\x1b[19~', 8],
    ['\x1b[20~', 9],
    ['\x1b[21~', 10],
    ['\x1b[23~', 11],
    ['\x1b[24~', 12],
  ])('%j selects window %d', (sequence, number) => {
    expect(windowForKey(sequence)).toBe(number);
  });

  it.each([
    undefined,
    '',
    '1',
    '\x1b',
    '\x1ba',
    '\x1b[A', // up
    '\x1b[16~',
    '\x1b[22~',
    '\x1b[25~', // F13
    '\x1b[1;2P', // Shift-F1
    '\x1b[15;5~', // Ctrl-F5
    '\x1bOPx',
  ])('%j selects nothing', (sequence) => {
    expect(windowForKey(sequence)).toBeUndefined();
  });
});

describe('terminal windows in the conversation state', () => {
  it('window 1 is the status window, active while nothing is selected', () => {
    const state = new ConversationState({ windows: true, lobbyFirst: true, self: 'alice' });
    expect(state.windows).toEqual([STATUS_WINDOW]);
    expect(state.activeWindow).toBe(STATUS_WINDOW);
    state.admit({ kind: 'room', ts: 0, room: '#lobby', event: 'joined' });
    expect(state.windows).toEqual([STATUS_WINDOW, '#lobby']);
    expect(state.activeWindow).toBe('#lobby');
    expect(state.selectWindow(1)).toBe(STATUS_WINDOW);
    expect(state.target).toBeUndefined();
    expect(state.activeWindow).toBe(STATUS_WINDOW);
    expect(state.selectWindow(2)).toBe('#lobby');
    expect(state.activeWindow).toBe('#lobby');
    expect(state.selectWindow(3)).toBeUndefined();
  });

  it('without terminal windows nothing changes: no status window, no active window', () => {
    const state = new ConversationState({ self: 'alice' });
    expect(state.windows).toEqual([]);
    expect(state.activeWindow).toBeUndefined();
  });

  it('/join from a room makes the new room active on a terminal, not with --json', () => {
    const terminal = new ConversationState({ windows: true });
    terminal.setTarget('#dev');
    terminal.joined('#ops');
    expect(terminal.target).toBe('#ops');
    const json = new ConversationState();
    json.setTarget('#dev');
    json.joined('#ops');
    expect(json.target).toBe('#dev');
    expect(json.windows).toEqual(['#dev', '#ops']);
  });

  it('the prompt names the status window', () => {
    const connected = { state: 'connected', server: 's', fingerprint: 'f' } as const;
    expect(formatPrompt({ connection: connected, statusWindow: true })).toBe('[status] > ');
    expect(formatPrompt({ connection: connected })).toBe('[no target] > ');
  });
});

describe('render layout', () => {
  it('reports the hanging indent of the unwrapped lines it renders', () => {
    const layout: { indent?: number } = {};
    const lines = renderEvent(
      { kind: 'info', ts: 0, text: 'hello' },
      { color: false, self: 'alice', timeFormat: () => 'T', layout },
    );
    expect(lines).toEqual(['[T] -!- hello']);
    expect(layout.indent).toBe('[T] -!- '.length);
  });
});
