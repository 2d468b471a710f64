import { describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../src/client/events.js';
import { ChatModel, conversationOf, STATUS } from '../../../src/web/model.js';
import { groupDigits, visible } from '../../../src/web/text.js';

const message = (over: Partial<Extract<ClientEvent, { kind: 'message' }>>): ClientEvent => ({
  kind: 'message',
  ts: 1,
  direction: 'in',
  from: 'bob',
  to: 'alice',
  text: 'hi',
  protection: 'e2ee-v2',
  ...over,
});

function model(): ChatModel {
  const m = new ChatModel();
  m.receive({ type: 'hello', self: 'alice' }, true);
  return m;
}

describe('the page model (built only from core events)', () => {
  it('files messages by conversation: the room, else the other party', () => {
    expect(conversationOf(message({}) as never)).toBe('bob');
    expect(conversationOf(message({ direction: 'out', from: 'alice', to: 'Bob' }) as never)).toBe(
      'Bob',
    );
    expect(conversationOf(message({ to: '#den' }) as never)).toBe('#den');
    expect(conversationOf(message({ to: '(server)' }) as never)).toBe(STATUS);
  });

  it('counts unread messages outside the open conversation and notifies only live ones', () => {
    const m = model();
    const note = m.receive({ type: 'event', event: message({ text: 'one' }) }, true);
    expect(note).toEqual({ title: 'bob', body: 'one', conversation: 'bob' });
    m.receive({ type: 'event', event: message({ text: 'two', from: 'BOB' }) }, true);
    expect(m.conversation('bob').unread).toBe(2);
    m.select('bob');
    expect(m.conversation('bob').unread).toBe(0);
    // In the open conversation, with the page in front: read, no notification.
    expect(m.receive({ type: 'event', event: message({ text: 'three' }) }, true)).toBeUndefined();
    expect(m.conversation('bob').unread).toBe(0);
    // The page in the background: unread and notified.
    expect(m.receive({ type: 'event', event: message({ text: 'four' }) }, false)).toBeDefined();
    expect(m.conversation('bob').unread).toBe(1);
    // A replay (page reload) rebuilds counts but notifies nothing.
    m.receive({ type: 'replay', events: [message({ from: 'carol', text: 'old' })] }, false);
    expect(m.conversation('carol').unread).toBe(1);
    expect(m.conversation('carol').lines).toHaveLength(1);
  });

  it('delivery events mark the outgoing line', () => {
    const m = model();
    m.apply(message({ direction: 'out', from: 'alice', to: 'bob', id: 'm1' }), true, false);
    const line = () => m.conversation('bob').lines[0];
    expect(line()?.delivery).toBe('sent');
    m.apply({ kind: 'delivery', ts: 2, id: 'm1', to: 'bob', status: 'delivered' }, true, false);
    expect(line()?.delivery).toBe('delivered');
    m.apply(
      { kind: 'delivery', ts: 3, id: 'm1', to: 'bob', status: 'failed', reason: 'gone' },
      true,
      false,
    );
    expect(line()).toMatchObject({ delivery: 'failed', reason: 'gone' });
  });

  it('a trust event raises the banner for that peer until the page sends /trust', () => {
    const m = model();
    m.apply(
      { kind: 'trust', ts: 1, user: 'bob', code: 'E_KEY_CHANGED', text: 'changed' },
      true,
      false,
    );
    expect(m.conversation('bob').trust?.code).toBe('E_KEY_CHANGED');
    expect(m.lastNotice?.text).toBe('changed');
    m.trusted('BOB');
    expect(m.conversation('bob').trust).toBeUndefined();
    // Refused by the core (bob went offline): the banner is back, sending stays blocked.
    m.apply({ kind: 'error', ts: 2, text: 'bob is not online', code: 'E_TRUST' }, true, false);
    expect(m.conversation('bob').trust?.code).toBe('E_KEY_CHANGED');
    m.trusted('bob');
    m.apply({ kind: 'info', ts: 3, text: "accepted bob's new identity" }, true, false);
    m.apply({ kind: 'error', ts: 4, text: 'unrelated', code: 'E_TRUST' }, true, false);
    expect(m.conversation('bob').trust).toBeUndefined();
    m.apply({ kind: 'trust', ts: 1, code: 'E_SERVER_DOWNGRADE', text: 'server' }, true, false);
    expect(m.serverTrust?.code).toBe('E_SERVER_DOWNGRADE');
  });

  it('room events keep topic, membership and roles', () => {
    const m = model();
    const room = (event: string, extra: object = {}): ClientEvent =>
      ({ kind: 'room', ts: 1, room: '#den', event, ...extra }) as ClientEvent;
    m.apply(room('joined'), true, false);
    m.apply(
      {
        kind: 'users',
        ts: 1,
        room: '#den',
        users: [{ name: 'alice', fingerprint: 'f', status: 'online', self: true, role: 'owner' }],
      },
      true,
      false,
    );
    m.apply(room('join', { user: 'bob' }), true, false);
    m.apply(room('op', { user: 'bob', by: 'alice' }), true, false);
    m.apply(room('topic', { text: 'plans', by: 'alice' }), true, false);
    const den = m.conversation('#den');
    expect(den).toMatchObject({ joined: true, topic: 'plans', room: true });
    expect(den.members.map((p) => [p.name, p.role])).toEqual([
      ['alice', 'owner'],
      ['bob', 'op'],
    ]);
    m.apply(room('kick', { user: 'bob', by: 'alice', reason: 'x' }), true, false);
    expect(den.members.map((p) => p.name)).toEqual(['alice']);
    expect(den.lines.at(-1)?.text).toBe('bob was kicked by alice (x)');
    m.apply(room('ban', { user: 'alice', by: 'carol' }), true, false);
    expect(den.joined).toBe(false);
  });

  it('bounds what it keeps per conversation', () => {
    const m = model();
    for (let i = 0; i < 1500; i++) m.apply(message({ text: String(i) }), true, true);
    const lines = m.conversation('bob').lines;
    expect(lines.length).toBeLessThanOrEqual(1000);
    expect(lines.at(-1)?.text).toBe('1499');
  });
});

describe('peer text on the page', () => {
  it('makes controls, bidi overrides and zero-width characters visible; keeps newlines and markup as text', () => {
    expect(visible('a\u202Eb\u200Bc\u0007\u001b[31m\u009b\n\td')).toBe(
      'a⟨U+202E⟩b⟨U+200B⟩c⟨U+0007⟩⟨U+001B⟩[31m⟨U+009B⟩\n\td',
    );
    expect(visible('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
    expect(visible('héllo 👋 日本')).toBe('héllo 👋 日本');
  });

  it('shows the safety number in 12 groups of 5', () => {
    const groups = groupDigits('0123456789'.repeat(6));
    expect(groups).toHaveLength(12);
    expect(groups[0]).toBe('01234');
  });
});
