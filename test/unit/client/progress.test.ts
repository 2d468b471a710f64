import { describe, expect, it } from 'vitest';
import type { TransferEvent } from '../../../src/client/events.js';
import { formatEta, progressBar, progressText } from '../../../src/client/ui/progress.js';
import { renderEvent } from '../../../src/client/ui/render.js';

const opts = { color: false, self: 'bob', timeFormat: () => '12:00:00' };
const base: TransferEvent = {
  kind: 'transfer',
  ts: 0,
  phase: 'progress',
  id: '3f9a2c',
  direction: 'down',
  peer: 'alice',
  name: 'report.pdf',
  size: 2_300_000,
  bytes: 1_150_000,
  rate: 500_000,
  etaSeconds: 3,
};

describe('progress rendering', () => {
  it('draws bars, rates and times left', () => {
    expect(progressBar(0)).toBe(`[${'-'.repeat(20)}]`);
    expect(progressBar(0.5)).toBe(`[${'#'.repeat(10)}${'-'.repeat(10)}]`);
    expect(progressBar(2)).toBe(`[${'#'.repeat(20)}]`);
    expect(progressBar(Number.NaN)).toBe(`[${'-'.repeat(20)}]`);
    expect(formatEta(42)).toBe('42s');
    expect(formatEta(65)).toBe('1m05s');
    expect(formatEta(7380)).toBe('2h03m');
    expect(progressText(0, 0)).toMatch(/100%/);
  });

  it('shows an offer, progress both ways, a result and a failure', () => {
    expect(renderEvent({ ...base, phase: 'offer', bytes: 0 }, opts)).toEqual([
      '[12:00:00] -!- alice offers report.pdf, 2.3 MB: /accept 3f9a2c or /reject 3f9a2c',
    ]);
    expect(renderEvent(base, opts)[0]).toBe(
      `[12:00:00] -!- v 3f9a2c report.pdf from alice [${'#'.repeat(10)}${'-'.repeat(10)}] 50% 1.1 MB/2.3 MB 500.0 kB/s ETA 3s`,
    );
    expect(renderEvent({ ...base, direction: 'up', peer: '#club' }, opts)[0]).toContain(
      '^ 3f9a2c report.pdf to #club [',
    );
    expect(renderEvent({ ...base, phase: 'done', path: '/dl/report.pdf' }, opts)[0]).toContain(
      'saved to /dl/report.pdf (digest checked)',
    );
    expect(
      renderEvent(
        { ...base, phase: 'failed', reason: 'the file does not match its digest' },
        opts,
      )[0],
    ).toContain('failed: the file does not match its digest');
  });

  it('never prints peer-supplied control or bidi characters', () => {
    const hostile = {
      ...base,
      phase: 'offer' as const,
      name: 'a\u202egpj.exe\u001b]52;c;x\u0007',
      peer: 'al\u001bice',
    };
    const [line] = renderEvent(hostile, opts);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(line).toContain('agpj.exe');
  });

  it('lists transfers', () => {
    const lines = renderEvent(
      {
        kind: 'transfers',
        ts: 0,
        transfers: [
          {
            id: '3f9a2c',
            direction: 'down',
            peer: 'alice',
            name: 'r.pdf',
            size: 5,
            bytes: 0,
            state: 'offered',
          },
        ],
      },
      opts,
    );
    expect(lines.join('\n')).toContain('v 3f9a2c r.pdf from alice 5 B offered');
    expect(renderEvent({ kind: 'transfers', ts: 0, transfers: [] }, opts)[0]).toContain(
      'no file transfers',
    );
  });
});
