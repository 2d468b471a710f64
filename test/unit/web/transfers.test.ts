import { describe, expect, it } from 'vitest';
import type { TransferEvent } from '../../../src/client/events.js';
import { ChatModel } from '../../../src/web/model.js';
import {
  bytesText,
  finished,
  percent,
  rateText,
  TransferBook,
  transferConversation,
} from '../../../src/web/transfers.js';

const transfer = (over: Partial<TransferEvent>): TransferEvent => ({
  kind: 'transfer',
  ts: 1,
  phase: 'offer',
  id: 'ab12cd',
  direction: 'down',
  peer: 'bob',
  name: 'report.pdf',
  size: 2_000_000,
  bytes: 0,
  ...over,
});

function model(): ChatModel {
  const m = new ChatModel();
  m.receive({ type: 'hello', self: 'alice' }, true);
  return m;
}

describe('the page’s file transfer state (from the core’s transfer events)', () => {
  it('an offer is pending in its conversation, with a line, an unread mark and a notification', () => {
    const m = model();
    const note = m.receive({ type: 'event', event: transfer({}) }, true);
    expect(note).toEqual({
      title: 'bob',
      body: 'bob offers report.pdf (2.0 MB)',
      conversation: 'bob',
    });
    expect(m.transfers.pending().map((t) => t.id)).toEqual(['ab12cd']);
    expect(m.transfers.of('bob')).toHaveLength(1);
    expect(m.conversation('bob').unread).toBe(1);
    expect(m.conversation('bob').lines.at(-1)).toMatchObject({ kind: 'event', id: 'ab12cd' });
    // A replayed offer is shown, not notified; the same id stays one transfer.
    m.receive({ type: 'replay', events: [transfer({})] }, true);
    expect(m.transfers.list()).toHaveLength(1);
  });

  it('a room file belongs to the room; a hostile name stays plain text in the model', () => {
    const m = model();
    const name = '<img src=x onerror=alert(1)>\u202egpj.exe';
    m.receive({ type: 'event', event: transfer({ room: '#Den', name }) }, false);
    expect(transferConversation(m.transfers.get('ab12cd')!)).toBe('#Den');
    expect(m.transfers.of('#den')[0]?.name).toBe(name);
    expect(m.conversation('#den').lines.at(-1)?.text).toContain(name);
  });

  it('tracks progress with rate and ETA, then done with the saved path', () => {
    const book = new TransferBook();
    book.apply(transfer({}));
    book.answered('ab12cd', true);
    expect(book.get('ab12cd')?.phase).toBe('accepting');
    const moving = book.apply(
      transfer({ phase: 'progress', bytes: 500_000, rate: 250_000, etaSeconds: 6 }),
    )!;
    expect(percent(moving)).toBe(25);
    expect(rateText(moving)).toBe('250 kB/s, 6 s left');
    expect(finished(moving)).toBe(false);
    const done = book.apply(
      transfer({ phase: 'done', bytes: 2_000_000, rate: 300_000, path: '/dl/report.pdf' }),
    )!;
    expect(done).toMatchObject({ phase: 'done', path: '/dl/report.pdf', bytes: 2_000_000 });
    expect(done.rate).toBeUndefined();
    expect(percent(done)).toBe(100);
    expect(rateText(done)).toBe('');
    expect(book.pending()).toEqual([]);
  });

  it('failed, cancelled and rejected end a transfer; a rejected offer is no longer pending', () => {
    const book = new TransferBook();
    book.apply(transfer({ id: 'a' }));
    book.answered('a', false);
    expect(book.get('a')?.phase).toBe('rejected');
    book.apply(transfer({ id: 'b', direction: 'up', phase: 'started' }));
    expect(book.get('b')?.phase).toBe('progress');
    book.apply(
      transfer({
        id: 'b',
        direction: 'up',
        phase: 'failed',
        code: 'E_FILE_TOO_BIG',
        reason: 'too big',
      }),
    );
    expect(book.get('b')).toMatchObject({ phase: 'failed', reason: 'too big' });
    book.apply(transfer({ id: 'c', direction: 'up', phase: 'cancelled' }));
    expect(['a', 'b', 'c'].map((id) => finished(book.get(id)!))).toEqual([true, true, true]);
  });

  it('an upload the page started leaves the waiting list when the core reports it', () => {
    const book = new TransferBook();
    book.uploading.push({ to: 'Bob', name: 'x.bin', size: 3 });
    book.apply(transfer({ id: 'u', direction: 'up', phase: 'started', name: 'x.bin' }));
    expect(book.uploading).toEqual([]);
  });

  it('reads a /transfers list, and stays bounded', () => {
    const book = new TransferBook();
    book.apply({
      kind: 'transfers',
      ts: 5,
      transfers: [
        { id: 'o', direction: 'down', peer: 'bob', name: 'n', size: 1, bytes: 0, state: 'offered' },
        { id: 'd', direction: 'up', peer: 'bob', name: 'n', size: 1, bytes: 0, state: 'uploading' },
        { id: 'x', direction: 'down', peer: 'bob', name: 'n', size: 1, bytes: 1, state: 'done' },
      ],
    });
    expect(book.list().map((t) => [t.id, t.phase])).toEqual([
      ['o', 'offer'],
      ['d', 'progress'],
      ['x', 'done'],
    ]);
    // A later list (bytes 0) does not undo known progress; it can only end a transfer.
    book.apply(transfer({ id: 'd', direction: 'up', phase: 'progress', bytes: 1, size: 2 }));
    book.apply({
      kind: 'transfers',
      ts: 6,
      transfers: [
        { id: 'd', direction: 'up', peer: 'bob', name: 'n', size: 2, bytes: 0, state: 'uploading' },
      ],
    });
    expect(book.get('d')).toMatchObject({ phase: 'progress', bytes: 1 });
    book.apply({
      kind: 'transfers',
      ts: 7,
      transfers: [
        { id: 'd', direction: 'up', peer: 'bob', name: 'n', size: 2, bytes: 0, state: 'done' },
      ],
    });
    expect(book.get('d')).toMatchObject({ phase: 'done', bytes: 2 });
    for (let i = 0; i < 300; i += 1) book.apply(transfer({ id: `f${i}`, phase: 'done' }));
    expect(book.list().length).toBeLessThanOrEqual(200);
  });

  it('knows the upload limit from hello, and refuses a larger file before uploading', () => {
    const m = new ChatModel();
    m.receive({ type: 'hello', self: 'alice' }, true);
    expect(m.transfers.uploadRefusal(1)).toMatch(/not available/);
    m.receive({ type: 'hello', self: 'alice', maxUpload: 1000 }, true);
    expect(m.transfers.uploadRefusal(1000)).toBeUndefined();
    expect(m.transfers.uploadRefusal(1001)).toMatch(/larger than 1.0 kB/);
  });

  it('formats sizes and long ETAs', () => {
    expect(bytesText(999)).toBe('999 B');
    expect(bytesText(1500)).toBe('1.5 kB');
    expect(bytesText(123_000_000)).toBe('123 MB');
    const slow = {
      ...transfer({ phase: 'progress' }),
      phase: 'progress' as const,
      rate: 10,
      etaSeconds: 600,
    };
    expect(rateText(slow)).toBe('10 B/s, 10 min left');
  });
});
