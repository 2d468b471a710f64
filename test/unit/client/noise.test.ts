/** Issue 15, noise: markers, wording of room events, ban expiry in local time. */
import { describe, expect, it } from 'vitest';
import { DeliveryTracker, FETCHED_REASON } from '../../../src/client/direct/delivery.js';
import type { ClientEvent, RoomEvent } from '../../../src/client/events.js';
import { eventSink, Protection } from '../../../src/client/events.js';
import { ConversationState } from '../../../src/client/ui/conversations.js';
import { deliveryMark, ShownMessages } from '../../../src/client/ui/delivery-marks.js';
import { formatLocalDateTime, renderEvent } from '../../../src/client/ui/render.js';
import {
  decodePairwiseContent,
  encodePairwiseContent,
  parseServerFrame,
} from '../../../src/protocol/index.js';

const plain = { color: false, self: 'alice', timeFormat: () => 'T' };
const colour = { ...plain, color: true };
const line = (event: ClientEvent, opts = plain) => renderEvent(event, opts).join('\n');
const room = (e: Omit<RoomEvent, 'kind' | 'ts' | 'room'>): ClientEvent => ({
  kind: 'room',
  ts: 0,
  room: '#dev',
  ...e,
});

describe('[server-readable] stands out', () => {
  const message = (protection: Protection): ClientEvent => ({
    kind: 'message',
    ts: 0,
    direction: 'in',
    from: 'bob',
    to: '#dev',
    text: 'hi',
    protection,
  });
  it('has its own (warning) colour, not the room colour', () => {
    const server = renderEvent(message(Protection.server), colour)[0]!;
    const roomLine = renderEvent(message(Protection.room), colour)[0]!;
    const sgr = (s: string, marker: string) => s.slice(0, s.indexOf(marker)).split('\u001b[').pop();
    expect(sgr(server, '[server-readable]')).not.toBe(sgr(roomLine, '[e2ee:room]'));
    expect(server).toContain('\u001b[43m'); // yellow background
  });
  it('says it in words without colour', () => {
    expect(line(message(Protection.server))).toContain(
      '[server-readable] (NOT end-to-end encrypted)',
    );
    expect(line(message(Protection.room))).not.toContain('NOT end-to-end');
  });
});

describe('room events read as sentences', () => {
  it.each<[Omit<RoomEvent, 'kind' | 'ts' | 'room'>, string]>([
    [{ event: 'password', by: 'alice' }, 'alice changed the password of #dev'],
    [{ event: 'op', user: 'bob', by: 'alice' }, 'alice made bob an operator of #dev'],
    [{ event: 'deop', user: 'bob', by: 'carol' }, "carol took bob's operator rights in #dev"],
    [{ event: 'kick', user: 'carol', by: 'bob' }, 'carol was kicked from #dev by bob'],
    [
      { event: 'kick', user: 'alice', by: 'bob', reason: 'spam' },
      'you were kicked from #dev by bob (spam)',
    ],
    [{ event: 'part', user: 'alice' }, 'you left #dev'],
  ])('%j', (event, expected) => {
    expect(line(room(event))).toMatch(new RegExp(`${expected.replace(/[()]/g, '\\$&')}$`));
    expect(line(room(event))).not.toMatch(/ by \S+ by /);
  });
});

describe('ban expiry in local 24-hour time', () => {
  it('rewrites the UTC instant of a ban refusal', () => {
    const iso = '2026-11-29T23:47:53.478Z';
    const shown = line({
      kind: 'error',
      ts: 0,
      text: `you are banned from #dev until ${iso}`,
      code: 'E_BANNED',
    });
    expect(shown).not.toContain(iso);
    expect(shown).toContain(`until ${formatLocalDateTime(new Date(iso))}`);
    expect(formatLocalDateTime(new Date(2026, 0, 2, 15, 4))).toBe('2026-01-02 15:04');
  });
});

describe('one line per join and leave on a terminal', () => {
  it('drops lobby joins and parts (the presence line says it), keeps other rooms', () => {
    const terminal = new ConversationState({ lobbyFirst: true, quietLobby: true });
    const lobbyJoin = { kind: 'room', ts: 0, room: '#lobby', event: 'join', user: 'bob' } as const;
    const devJoin = { ...lobbyJoin, room: '#dev' } as const;
    expect(terminal.admit(lobbyJoin)).toBe(false);
    expect(terminal.admit({ ...lobbyJoin, event: 'part' })).toBe(false);
    expect(terminal.admit(devJoin)).toBe(true);
    expect(new ConversationState().admit(lobbyJoin)).toBe(true); // --json: every event
  });
});

describe('delivery marks', () => {
  it('are compact, and a failure carries its reason', () => {
    expect(deliveryMark('sent')).toBe('✓');
    expect(deliveryMark('delivered')).toBe('✓✓');
    expect(deliveryMark('stored')).toBe('⌛ stored');
    expect(deliveryMark('failed', 'bob is not online')).toBe('✗ failed: bob is not online');
    expect(deliveryMark('failed', 'x\u001b[2J')).not.toContain('\u001b');
  });
  it('remembers a bounded number of messages, oldest forgotten first', () => {
    const shown = new ShownMessages(2);
    for (const id of ['a', 'b', 'c']) shown.remember(id, { row: 1, line: id, width: 1 });
    expect(shown.get('a')).toBeUndefined();
    expect(shown.get('c')?.line).toBe('c');
    shown.forgetAll();
    expect(shown.get('c')).toBeUndefined();
  });
});

describe('offline messages keep their send time (inside the encryption)', () => {
  it('the content carries ts; a malformed one is dropped, older content still reads', () => {
    const text = encodePairwiseContent({ t: 'text', text: 'hi', ts: 1_700_000_000_000 });
    expect(decodePairwiseContent(text)).toEqual({ t: 'text', text: 'hi', ts: 1_700_000_000_000 });
    expect(decodePairwiseContent('{"t":"text","text":"hi","ts":"soon"}')).toEqual({
      t: 'text',
      text: 'hi',
    });
    expect(decodePairwiseContent('{"t":"text","text":"hi"}')).toEqual({ t: 'text', text: 'hi' });
    // a hostile peer's time past what a Date holds is dropped, not rendered as NaN
    expect(decodePairwiseContent('{"t":"text","text":"hi","ts":9000000000000000}')).toEqual({
      t: 'text',
      text: 'hi',
    });
  });
  it('is shown with the send time and a marker before the sender', () => {
    const sent = new Date(2026, 10, 29, 8, 5, 0).getTime();
    const shown = renderEvent(
      {
        kind: 'message',
        ts: new Date(2026, 10, 30, 9, 0, 0).getTime(),
        sentAt: sent,
        direction: 'in',
        from: 'bob',
        to: 'alice',
        text: 'morning',
        protection: Protection.ratchet,
      },
      { color: false, self: 'alice' },
    )[0]!;
    expect(shown).toBe('[08:05:00] [e2ee] [sent while you were away, 2026-11-29] <bob> morning');
  });
});

describe('a stored message fetched later counts as delivered, as the server says', () => {
  it('reads the fetched ack and reports delivered with the server named', () => {
    expect(parseServerFrame({ type: 'ack', id: 'x-1', fetched: true })).toEqual({
      type: 'ack',
      id: 'x-1',
      fetched: true,
    });
    const events: ClientEvent[] = [];
    const tracker = new DeliveryTracker(
      eventSink(
        (e) => events.push(e),
        () => 0,
      ),
      10,
    );
    const message = { id: 'x-1', to: 'carol', text: 'hi', action: false };
    tracker.sent(message);
    tracker.acked('x-1', true);
    tracker.fetched('x-1');
    tracker.fetched('x-1'); // once
    expect(events.map((e) => (e as { status: string }).status)).toEqual([
      'sent',
      'stored',
      'delivered',
    ]);
    expect((events[2] as { reason?: string }).reason).toBe(FETCHED_REASON);
    expect(deliveryMark('delivered', FETCHED_REASON)).toBe('✓✓ fetched, says the server');
  });
});
