import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DOWNLOAD_STALL_MS,
  Downloads,
  PENDING_RETRIES,
  PENDING_RETRY_MS,
} from '../../../src/client/transfers/downloads.js';
import {
  chunkCount,
  chunkPlainLength,
  FILE_CHUNK_BYTES,
  sealChunk,
} from '../../../src/protocol/index.js';
import { downloadRecord, fakeTransferHost } from '../../helpers/transfer-fakes.js';
import { until } from '../../helpers/until.js';
import { manualTimers } from '../client/fakes.js';

const dirs: string[] = [];
/** Downloads a test started: their files are closed after it (not by the collector). */
const live: Downloads[] = [];
afterEach(async () => {
  for (const downloads of live.splice(0)) await downloads.disconnected();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'sc-watchdog-'));
  dirs.push(dir);
  const plain = randomBytes(3 * FILE_CHUNK_BYTES + 10);
  const key = randomBytes(32);
  const tid = randomBytes(16);
  const chunks = chunkCount(plain.length);
  const sealed = Array.from({ length: chunks }, (_, i) =>
    sealChunk(
      key,
      { transferId: tid, index: i, final: i === chunks - 1 },
      plain.subarray(
        i * FILE_CHUNK_BYTES,
        i * FILE_CHUNK_BYTES + chunkPlainLength(plain.length, i),
      ),
    ),
  );
  const record = downloadRecord(tid, {
    size: plain.length,
    chunks,
    key: key.toString('base64'),
    digest: createHash('sha256').update(plain).digest('base64'),
  });
  const time = manualTimers();
  const sent: Array<Record<string, unknown>> = [];
  const phases: Array<{ phase: string; path?: string }> = [];
  const host = fakeTransferHost({
    now: time.now,
    ready: () => true,
    send: (frame) => {
      if (typeof frame === 'object' && !(frame instanceof Uint8Array))
        sent.push(frame as Record<string, unknown>);
      return true;
    },
    progress: (_record, phase, _bytes, extra) => phases.push({ phase, ...extra }),
  });
  const downloads = new Downloads(host, dir, time.timers);
  live.push(downloads);
  const gets = () => sent.filter((f) => f.type === 'fget').map((f) => [f.i, f.n]);
  return { plain, sealed, record, time, downloads, gets, phases };
}

describe('download watchdog (injected timers)', () => {
  it('asks again from the chunk due when nothing came between two looks, and skips the late duplicates', async () => {
    const { plain, sealed, record, time, downloads, gets, phases } = setup();
    await downloads.start(record);
    expect(gets()).toEqual([[0, 4]]);
    downloads.chunk(record, 0, sealed[0]!);
    time.advance(DOWNLOAD_STALL_MS); // first look: notes where it is
    expect(gets()).toEqual([[0, 4]]);
    time.advance(DOWNLOAD_STALL_MS); // no chunk since: the request is given up on
    expect(gets()).toEqual([
      [0, 4],
      [1, 3],
    ]);
    // a late chunk of the old request, then the new ones (with a duplicate): saved intact
    downloads.chunk(record, 0, sealed[0]!);
    for (const i of [1, 2, 2, 3]) downloads.chunk(record, i, sealed[i]!);
    expect(await until(() => phases.some((p) => p.phase === 'done'))).toBe(true);
    const done = phases.find((p) => p.phase === 'done')!;
    expect(readFileSync(done.path!).equals(plain)).toBe(true);
    expect(phases.some((p) => p.phase === 'failed')).toBe(false);
    // nothing active: the next look stops the watchdog
    time.advance(DOWNLOAD_STALL_MS);
    expect(time.pending).toBe(0);
  });

  it('asks again after E_FILE_PENDING (once for all refused requests), and gives up after PENDING_RETRIES', async () => {
    const { sealed, record, time, downloads, gets, phases } = setup();
    await downloads.start(record);
    downloads.chunk(record, 0, sealed[0]!);
    downloads.refused(record, 'E_FILE_PENDING', 'not uploaded yet');
    downloads.refused(record, 'E_FILE_PENDING', 'not uploaded yet');
    time.advance(PENDING_RETRY_MS - 1);
    expect(gets()).toEqual([[0, 4]]);
    time.advance(1);
    expect(gets()).toEqual([
      [0, 4],
      [1, 3],
    ]);
    for (let k = 1; k < PENDING_RETRIES; k++) {
      downloads.refused(record, 'E_FILE_PENDING', 'not uploaded yet');
      time.advance(PENDING_RETRY_MS);
    }
    expect(gets()).toHaveLength(PENDING_RETRIES + 1);
    expect(phases.some((p) => p.phase === 'failed')).toBe(false);
    downloads.refused(record, 'E_FILE_PENDING', 'not uploaded yet');
    expect(await until(() => phases.some((p) => p.phase === 'failed'))).toBe(true);
  });

  it('asks nothing again while chunks keep coming', async () => {
    const { sealed, record, time, downloads, gets } = setup();
    await downloads.start(record);
    for (const i of [0, 1, 2]) {
      downloads.chunk(record, i, sealed[i]!);
      time.advance(DOWNLOAD_STALL_MS);
    }
    expect(gets()).toEqual([[0, 4]]);
  });
});
