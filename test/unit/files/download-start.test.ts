import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Downloads } from '../../../src/client/transfers/downloads.js';
import { downloadRecord, fakeTransferHost, openOn } from '../../helpers/transfer-fakes.js';
import { manualTimers } from '../client/fakes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sc-dl-start-'));
  dirs.push(dir);
  const tid = randomBytes(16);
  const record = downloadRecord(tid, {
    size: 100_000,
    chunks: 4,
    key: randomBytes(32).toString('base64'),
    digest: randomBytes(32).toString('base64'),
  });
  const time = manualTimers();
  const sent: string[] = [];
  const phases: string[] = [];
  const host = fakeTransferHost({
    now: time.now,
    ready: () => true,
    send: (frame) => {
      if (typeof frame === 'object' && !(frame instanceof Uint8Array))
        sent.push(String((frame as { type?: unknown }).type));
      return true;
    },
    progress: (_record, phase) => {
      phases.push(phase);
    },
  });
  const downloads = new Downloads(host, join(dir, 'downloads'), time.timers);
  return { downloads, record, sent, phases };
}

describe.runIf(process.platform === 'linux')('a download stopped while it is starting', () => {
  it('cancelled: asks for nothing, keeps no file and no descriptor', async () => {
    const { downloads, record, sent, phases } = setup();
    const starting = downloads.start(record);
    await downloads.cancel(record);
    await starting;
    expect(sent).not.toContain('fget');
    expect(record.state).toBe('cancelled');
    expect(phases).toEqual(['cancelled']);
    expect(record.temp && existsSync(record.temp)).toBe(false);
    expect(openOn(record.temp!)).toBe(0);
  });

  it('the connection went down: asks for nothing and holds no descriptor (resumed later)', async () => {
    const { downloads, record, sent } = setup();
    const starting = downloads.start(record);
    await downloads.disconnected();
    await starting;
    expect(sent).not.toContain('fget');
    expect(openOn(record.temp!)).toBe(0);
    // after the welcome it starts again and asks
    await downloads.start(record);
    expect(sent).toContain('fget');
    await downloads.disconnected();
    expect(openOn(record.temp!)).toBe(0);
  });
});
