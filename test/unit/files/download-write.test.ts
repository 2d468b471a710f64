import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Downloads } from '../../../src/client/transfers/downloads.js';
import { sealChunk } from '../../../src/protocol/index.js';
import { downloadRecord, fakeTransferHost, openOn } from '../../helpers/transfer-fakes.js';
import { until } from '../../helpers/until.js';
import { manualTimers } from '../client/fakes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const CS = 32 * 1024;

/** A download of `plain` in 32 KiB chunks, its chunks sealed as the sender would. */
function setup(plain: Buffer) {
  const dir = mkdtempSync(join(tmpdir(), 'sc-dl-write-'));
  dirs.push(dir);
  const tid = randomBytes(16);
  const key = randomBytes(32);
  const chunks = Math.ceil(plain.length / CS);
  const record = downloadRecord(tid, {
    size: plain.length,
    chunks,
    key: key.toString('base64'),
    digest: createHash('sha256').update(plain).digest('base64'),
  });
  const sealed = Array.from({ length: chunks }, (_, index) =>
    sealChunk(
      key,
      { transferId: tid, index, final: index === chunks - 1 },
      plain.subarray(index * CS, (index + 1) * CS),
    ),
  );
  const time = manualTimers();
  const phases: string[] = [];
  const host = fakeTransferHost({
    now: time.now,
    ready: () => true,
    progress: (_record, phase) => {
      phases.push(phase);
    },
  });
  const downloads = new Downloads(host, join(dir, 'downloads'), time.timers);
  return { downloads, record, sealed, phases };
}

describe.runIf(process.platform === 'linux')('a download writes each chunk as it opens it', () => {
  it('has the chunk on disk when chunk() returns (no plaintext held across turns), then saves the file', async () => {
    const plain = randomBytes(3 * CS + 123);
    const { downloads, record, sealed, phases } = setup(plain);
    await downloads.start(record);
    const temp = record.temp!;
    for (const [i, chunk] of sealed.entries()) {
      downloads.chunk(record, i, chunk);
      expect(statSync(temp).size).toBe(Math.min(plain.length, (i + 1) * CS));
    }
    expect(await until(() => record.state !== 'downloading')).toBe(true);
    expect(phases.at(-1)).toBe('done');
    expect(readFileSync(record.saved!).equals(plain)).toBe(true);
    expect(existsSync(temp)).toBe(false);
    expect(openOn(temp)).toBe(0);
  });
});
