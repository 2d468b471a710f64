import { describe, expect, it } from 'vitest';
import { SessionOutput } from '../../../src/server/session-output.js';
import { ServerStats } from '../../../src/server/stats.js';
import type { Transport } from '../../../src/server/transport.js';
import { recordingTransport } from '../../helpers/fake-transport.js';

function output(transport: Transport) {
  const stats = new ServerStats();
  const out = new SessionOutput(
    transport,
    stats,
    { maxQueueBytes: 1 << 20, slowReaderGraceMs: 1000 },
    () => 0,
    () => {},
  );
  return { out, stats };
}

describe('SessionOutput.replyBytes with lent bodies', () => {
  it('writes a lent body itself (no copy) and gives it back only when the transport is done, once', () => {
    const { transport, writes, lends } = recordingTransport(true);
    const { out, stats } = output(transport);
    const body = Buffer.from('sealed chunk bytes');
    let back = 0;
    expect(out.replyBytes('H\n', body, () => back++)).toBe(true);
    expect(writes).toEqual([]);
    expect(lends).toHaveLength(1);
    expect(lends[0]!.header).toBe('H\n');
    expect(lends[0]!.body === body).toBe(true); // the very buffer: not copied
    expect(back).toBe(0); // still the socket's until written
    lends[0]!.written();
    lends[0]!.written(); // (a second call changes nothing: the buffer is not put back twice)
    expect(back).toBe(1);
    expect(stats.bytesOut).toBe(2 + body.length);
    expect(stats.framesOut.get('fchunk')).toBe(1);
  });

  it('copies a body that was not lent, and a lent one when the transport cannot lend (given back at once)', () => {
    const lending = recordingTransport(true);
    const a = output(lending.transport).out;
    a.replyBytes('H\n', Buffer.from('xy'));
    expect(lending.lends).toEqual([]);
    expect(Buffer.from(lending.writes[0] as Uint8Array).toString()).toBe('H\nxy');

    const plain = recordingTransport(false);
    const b = output(plain.transport).out;
    const body = Buffer.from('zz');
    let back = 0;
    b.replyBytes('H\n', body, () => back++);
    expect(back).toBe(1);
    const frame = plain.writes[0] as Uint8Array;
    expect(Buffer.from(frame).toString()).toBe('H\nzz');
    body.fill(0); // (reusing the buffer now cannot change what was queued)
    expect(Buffer.from(frame).toString()).toBe('H\nzz');
  });

  it('gives a lent body back at once when the session is closed, writing nothing', () => {
    const { transport, writes, lends } = recordingTransport(true);
    const { out } = output(transport);
    out.close();
    let back = 0;
    expect(out.replyBytes('H\n', Buffer.from('x'), () => back++)).toBe(false);
    expect(back).toBe(1);
    expect(writes).toEqual([]);
    expect(lends).toEqual([]);
  });
});
