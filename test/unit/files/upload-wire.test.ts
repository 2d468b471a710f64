import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashFile } from '../../../src/client/transfers/file-io.js';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { Uploads } from '../../../src/client/transfers/uploads.js';
import {
  decodeJsonLine,
  FILE_CHUNK_BYTES,
  fromBase64,
  openChunk,
} from '../../../src/protocol/index.js';
import { fakeTransferHost } from '../../helpers/transfer-fakes.js';
import { until } from '../../helpers/until.js';

const dirs: string[] = [];
/** Uploads a test started: their files are closed after it (not by the collector). */
const live: Uploads[] = [];
afterEach(() => {
  for (const uploads of live.splice(0)) uploads.disconnected();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'sc-wire-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, bytes);
  return path;
}

describe('uploads in binary mode: what goes on the wire', () => {
  it('sends each chunk as [header, ciphertext, tag] parts that open to the file, over several read blocks', async () => {
    // 2.5 MiB + a bit in 32 KiB chunks: three 1 MiB read blocks (one read buffer, reused)
    const file = randomBytes(2 * 1024 * 1024 + 512 * 1024 + 777);
    const path = tempFile(file);
    const sent: (readonly Uint8Array[])[] = [];
    const host = fakeTransferHost({
      ready: () => true,
      chunkBytes: () => FILE_CHUNK_BYTES,
      send: (frame) => {
        if (Array.isArray(frame)) sent.push(frame as readonly Uint8Array[]);
        return true;
      },
    });
    const uploads = new Uploads(host);
    live.push(uploads);
    const record = (await uploads.send('bob', path)) as UploadRecord;
    uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap');
    // the window is 1 MiB: acknowledge what was sent until every chunk went out (bounded)
    let acked = 0;
    await until(() => {
      if (sent.length > acked) {
        acked = sent.length;
        uploads.acked(record, acked);
      }
      return sent.length === record.chunks;
    }, 10_000);
    expect(sent.length).toBe(record.chunks);
    // hashed on a worker thread alongside (no chunk waited for it)
    expect(await uploads.digestOf(record)).toBe(true);
    expect(Buffer.from(record.digest, 'base64')).toEqual(
      createHash('sha256').update(file).digest(),
    );
    const key = fromBase64(record.key, 'key', 32);
    const transferId = Buffer.from(record.id, 'hex');
    const plain: Buffer[] = [];
    for (const [i, parts] of sent.entries()) {
      expect(parts.length).toBe(3); // header, ciphertext, tag: never joined into a copy
      const [header, body, tag] = parts as [Uint8Array, Uint8Array, Uint8Array];
      expect(header.at(-1)).toBe(0x0a);
      const fields = decodeJsonLine(header.subarray(0, header.length - 1));
      expect(fields).toMatchObject({ type: 'fputb', i, len: body.length + tag.length });
      expect(tag.length).toBe(16);
      const sealed = Buffer.concat([body, tag]);
      plain.push(
        Buffer.from(
          openChunk(key, { transferId, index: i, final: i === record.chunks - 1 }, sealed),
        ),
      );
    }
    expect(Buffer.concat(plain).equals(file)).toBe(true); // (toEqual on megabytes is slow)
  });
});

describe('hashFile', () => {
  it('is the SHA-256 of the whole file, for sizes around its 1 MiB read', async () => {
    for (const size of [0, 1, 1024 * 1024 - 1, 1024 * 1024, 3 * 1024 * 1024 + 5]) {
      const bytes = randomBytes(size);
      expect(await hashFile(tempFile(bytes))).toEqual(createHash('sha256').update(bytes).digest());
    }
  });
});
