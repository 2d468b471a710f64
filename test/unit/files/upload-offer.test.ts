import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TransferHost } from '../../../src/client/transfers/transfer-host.js';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { Uploads } from '../../../src/client/transfers/uploads.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An upload's offer timing against a server with or without `fhold`. */
async function offersDuringUpload(fhold: boolean): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-offer-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, Buffer.alloc(100_000, 1));
  const offers: string[] = [];
  const host: TransferHost = {
    now: () => 0,
    ready: () => false, // nothing is sent: only the offer's timing matters here
    binaryChunks: () => true,
    chunkBytes: () => 32 * 1024,
    offerEarly: () => fhold,
    send: () => true,
    save: () => undefined,
    replace: () => undefined,
    sendOffer: async (_target, content) => {
      offers.push(content.digest);
      return true;
    },
    progress: () => undefined,
  };
  const uploads = new Uploads(host);
  const record = (await uploads.send('bob', path)) as UploadRecord;
  expect(record.digest).not.toBe(''); // hashed before the announce
  uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap');
  await Promise.resolve();
  return offers.length === 1 && offers[0] === record.digest;
}

describe('uploads offer early only to servers that hold fgets (fhold)', () => {
  it('offers at fok with fhold', async () => {
    expect(await offersDuringUpload(true)).toBe(true);
  });
  it('waits for the whole upload without it (an older server would refuse the fgets)', async () => {
    expect(await offersDuringUpload(false)).toBe(false);
  });
});
