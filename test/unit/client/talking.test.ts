/**
 * Issue 15, talking: /help complete and grouped, the lobby as the first window, Tab on
 * rooms, /fp alone, over-long messages refused before they are shown, the line limit in
 * the welcome.
 */
import { describe, expect, it } from 'vitest';
import { runInput } from '../../../src/client/commands/execute.js';
import { fullHelp, helpText } from '../../../src/client/commands/help-text.js';
import {
  COMMAND_TABLE,
  COMMANDS,
  type CommandContext,
} from '../../../src/client/commands/index.js';
import { parseInput } from '../../../src/client/commands/parse.js';
import {
  maxTextLength,
  sealedLineBytes,
  tooLongReason,
} from '../../../src/client/direct/line-budget.js';
import { type ClientEvent, eventSink } from '../../../src/client/events.js';
import { complete } from '../../../src/client/ui/completion.js';
import { ConversationState } from '../../../src/client/ui/conversations.js';
import { renderEvent } from '../../../src/client/ui/render.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  encodeWelcomeV2,
  parseServerFrame,
} from '../../../src/protocol/index.js';
import { v2User } from './fakes.js';

describe('/help (issue 15: it was cut off after /reconnect)', () => {
  it('renders every command, grouped, with nothing cut', () => {
    const text = fullHelp(COMMAND_TABLE);
    const shown = renderEvent({ kind: 'info', ts: 0, text }, { color: false, self: 'alice' }).join(
      '\n',
    );
    for (const command of COMMANDS) expect(shown).toContain(command.usage);
    const order = ['Direct messages', 'Rooms', 'Trust', 'Session'].map((t) => shown.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(shown.indexOf('/join')).toBeGreaterThan(shown.indexOf('Rooms'));
    expect(shown.indexOf('/quit')).toBeGreaterThan(shown.indexOf('Session'));
    expect(shown).toContain('/help <command>');
    expect(helpText(COMMAND_TABLE, 'join').split('\n')[0]).toMatch(/^\/join/);
  });
});

describe('the active window', () => {
  const joined = (room: string): ClientEvent => ({ kind: 'room', ts: 0, room, event: 'joined' });

  it('starts in the lobby on a terminal, until the user picks a conversation', () => {
    const state = new ConversationState({ lobbyFirst: true });
    expect(state.target).toBeUndefined();
    state.admit(joined('#lobby'));
    expect(state.target).toBe('#lobby');
    state.setTarget('bob');
    state.admit(joined('#lobby')); // a rejoin after a reconnect moves nobody
    expect(state.target).toBe('bob');
  });

  it("keeps today's rule (no target) for --json and piped input", () => {
    const state = new ConversationState();
    state.admit(joined('#lobby'));
    expect(state.target).toBeUndefined();
  });

  it('the hint for a plain line without a target names rooms too', () => {
    const events: ClientEvent[] = [];
    const context = {
      conversations: new ConversationState(),
      commands: COMMAND_TABLE,
      screen: eventSink(
        (e) => events.push(e),
        () => 0,
      ),
    } as unknown as CommandContext;
    runInput(parseInput('hello'), context);
    expect(events[0]).toMatchObject({ kind: 'error', code: 'E_NO_TARGET' });
    expect((events[0] as { text: string }).text).toMatch(/#room/);
  });
});

describe('Tab completes rooms', () => {
  const ctx = { users: ['bob'], rooms: ['#lobby', '#dev', '#Design'], self: 'alice' };
  it.each([
    ['/q #lob', ['#lobby ']],
    ['/join #d', ['#Design ', '#dev ']],
    ['/to #l', ['#lobby ']],
    ['/part #', ['#Design ', '#dev ', '#lobby ']],
    ['#lo', ['#lobby']],
    ['see #de', ['#Design', '#dev']],
    ['/q b', ['bob ']],
  ])('%j', (line, candidates) => {
    expect(complete(line, line.length, ctx).candidates).toEqual(candidates);
  });
});

describe('/fp', () => {
  it('alone shows your own identity fingerprint, labelled as the one to compare', () => {
    const parsed = parseInput('/fp');
    expect(parsed).toEqual({ kind: 'command', name: 'fp' });
    const user = v2User('alice');
    const events: ClientEvent[] = [];
    const context = {
      client: { name: 'alice', user },
      conversations: new ConversationState(),
      commands: COMMAND_TABLE,
      screen: eventSink(
        (e) => events.push(e),
        () => 0,
      ),
    } as unknown as CommandContext;
    runInput(parsed, context);
    expect(events).toHaveLength(1);
    const text = (events[0] as { text: string }).text;
    expect(text).toContain(user.identityFingerprint());
    expect(text).toContain('compare this one');
  });
});

describe('over-long messages (issue 15: a 50,000-character paste closed the connection)', () => {
  it('are refused before they are shown, with the limit', () => {
    const events: ClientEvent[] = [];
    const sent: string[] = [];
    const context = {
      client: {
        maxLineBytes: 65_536,
        sendDirect: (_to: string, text: string) => {
          sent.push(text);
          return { ok: true, id: 'x' };
        },
      },
      conversations: new ConversationState(),
      commands: COMMAND_TABLE,
      screen: eventSink(
        (e) => events.push(e),
        () => 0,
      ),
    } as unknown as CommandContext;
    runInput(parseInput(`/to bob ${'x'.repeat(50_000)}`), context);
    expect(sent).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'error', code: 'E_TOO_LONG' });
    expect((events[0] as { text: string }).text).toContain('65,536 bytes');
    runInput(parseInput(`/to bob ${'x'.repeat(40_000)}`), context);
    expect(sent).toHaveLength(1);
  });

  it('the estimate stays above the real frame and below the limit it names', () => {
    const limit = DEFAULT_MAX_LINE_BYTES;
    const fits = 'y'.repeat(maxTextLength(limit));
    expect(sealedLineBytes(fits)).toBeLessThanOrEqual(limit);
    expect(tooLongReason(fits, limit)).toBeUndefined();
    expect(tooLongReason(`${fits}yy`, limit)).toBeDefined();
    // JSON escaping counts: quotes take two bytes in the content
    expect(tooLongReason('"'.repeat(maxTextLength(limit)), limit)).toBeDefined();
  });
});

describe('the v2 welcome announces the line limit', () => {
  it('round-trips, and an absurd value is ignored', () => {
    const frame = parseServerFrame(JSON.parse(encodeWelcomeV2('{}', true, 65_536)));
    expect(frame).toMatchObject({ type: 'welcome', v: 2, maxline: 65_536 });
    const without = parseServerFrame(JSON.parse(encodeWelcomeV2('{}')));
    expect(without).not.toHaveProperty('maxline');
    const tiny = JSON.parse(encodeWelcomeV2('{}', true, 10));
    expect(parseServerFrame(tiny)).not.toHaveProperty('maxline');
  });
});

describe('the v2 welcome announces the largest file (files servers only)', () => {
  it('round-trips with files, is left out without, and a nonsense value is ignored', () => {
    const files = parseServerFrame(JSON.parse(encodeWelcomeV2('{}', true, 65_536, true, 4096)));
    expect(files).toMatchObject({ type: 'welcome', maxfile: 4096 });
    const none = parseServerFrame(JSON.parse(encodeWelcomeV2('{}', true, 65_536, false, 4096)));
    expect(none).not.toHaveProperty('maxfile');
    const odd = JSON.parse(encodeWelcomeV2('{}', true, 65_536, true, 4096));
    odd.maxfile = -1;
    expect(parseServerFrame(odd)).not.toHaveProperty('maxfile');
  });
});

describe('windows (/window N, Alt-N)', () => {
  const joined = (room: string): ClientEvent => ({ kind: 'room', ts: 0, room, event: 'joined' });
  const said = (from: string, to: string, text: string): ClientEvent => ({
    kind: 'message',
    ts: 0,
    direction: 'in',
    from,
    to,
    text,
    protection: 'e2ee-room' as never,
  });

  it('numbers conversations as they open; /window N makes one active and read', () => {
    const state = new ConversationState({ lobbyFirst: true, self: 'alice' });
    state.admit(joined('#lobby'));
    state.admit(joined('#dev'));
    state.admit(said('bob', 'alice', 'psst'));
    state.admit(said('carol', '#dev', 'alice: look at this'));
    state.admit(said('carol', '#dev', 'unrelated'));
    expect(state.windows).toEqual(['#lobby', '#dev', 'bob']);
    expect(state.unread.get('#dev')).toBe(2);
    expect(state.highlights.get('#dev')).toBe(1);
    const events: ClientEvent[] = [];
    const context = {
      conversations: state,
      commands: COMMAND_TABLE,
      screen: eventSink(
        (e) => events.push(e),
        () => 0,
      ),
    } as unknown as CommandContext;
    runInput(parseInput('/window'), context);
    expect((events[0] as { text: string }).text).toContain('2: #dev  2 unread, 1 for you');
    runInput(parseInput('/window 2'), context);
    expect(state.target).toBe('#dev');
    expect(state.unread.get('#dev')).toBeUndefined();
    runInput(parseInput('/window 9'), context);
    expect(events.at(-1)).toMatchObject({ kind: 'error' });
  });
});
