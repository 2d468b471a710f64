import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UploadRecord } from '../../../src/client/transfers/transfer-record.js';
import { Uploads } from '../../../src/client/transfers/uploads.js';
import type { FileContent } from '../../../src/protocol/index.js';
import { fakeTransferHost } from '../../helpers/transfer-fakes.js';
import { until } from '../../helpers/until.js';

const dirs: string[] = [];
/** Uploads a test started: their files are closed after it (not by the collector). */
const live: Uploads[] = [];
afterEach(() => {
  for (const uploads of live.splice(0)) uploads.disconnected();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * An upload of 100,000 bytes to bob, announced, against a server with or without `fhold`
 * (never ready: nothing is sent, only its offers matter); `offers` records each offer.
 */
async function announcedUpload(fhold: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'sc-offer-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, Buffer.alloc(100_000, 1));
  const offers: FileContent[] = [];
  const host = fakeTransferHost({
    offerEarly: () => fhold,
    sendOffer: async (_target, content) => {
      offers.push(content);
      return true;
    },
  });
  const uploads = new Uploads(host);
  live.push(uploads);
  const record = (await uploads.send('bob', path)) as UploadRecord;
  uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap');
  return { uploads, record, offers };
}

/** An upload's offer timing against a server with or without `fhold`. */
async function offersDuringUpload(fhold: boolean): Promise<boolean> {
  const { uploads, record, offers } = await announcedUpload(fhold);
  // the hash runs on a worker thread meanwhile: once it is known (a barrier, not a sleep),
  // and the microtasks after it ran, an early offer has gone out or never will
  expect(await uploads.digestOf(record)).toBe(true);
  await new Promise((r) => setImmediate(r));
  expect(record.digest).toBe(
    createHash('sha256').update(Buffer.alloc(100_000, 1)).digest('base64'),
  );
  return offers.length === 1 && offers[0]!.digest === record.digest;
}

describe('uploads offer early only to servers that hold fgets (fhold)', () => {
  it('offers at fok with fhold', async () => {
    expect(await offersDuringUpload(true)).toBe(true);
  });
  it('waits for the whole upload without it (an older server would refuse the fgets)', async () => {
    expect(await offersDuringUpload(false)).toBe(false);
  });
});

/** What an upload announces (`fnew`) and offers (descriptor) at a given chunk size. */
async function announcedAt(chunkBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sc-cs-'));
  dirs.push(dir);
  const path = join(dir, 'f.bin');
  writeFileSync(path, Buffer.alloc(3 * 256 * 1024 + 123, 1));
  const sent: Record<string, unknown>[] = [];
  const offers: FileContent[] = [];
  const host = fakeTransferHost({
    chunkBytes: () => chunkBytes,
    send: (frame) => {
      if (typeof frame === 'object' && !(frame instanceof Uint8Array))
        sent.push(frame as Record<string, unknown>);
      return true;
    },
    sendOffer: async (_target, content) => {
      offers.push(content);
      return true;
    },
  });
  const uploads = new Uploads(host);
  live.push(uploads);
  const record = (await uploads.send('bob', path)) as UploadRecord;
  uploads.announced(record, '0123456789abcdef0123456789abcdef', 'cap');
  await uploads.digestOf(record);
  await new Promise((r) => setImmediate(r));
  return { fnew: sent.find((f) => f.type === 'fnew')!, offer: offers[0]!, record };
}

describe('uploads announce their chunk size (cs) only when it is not 32 KiB', () => {
  it('256 KiB: cs in fnew, in the descriptor and in the record (resume keeps it)', async () => {
    const { fnew, offer, record } = await announcedAt(256 * 1024);
    expect(fnew).toMatchObject({ cs: 256 * 1024, chunks: 4, bytes: 3 * 256 * 1024 + 123 + 64 });
    expect(offer).toMatchObject({ cs: 256 * 1024, chunks: 4 });
    expect(record.chunkBytes).toBe(256 * 1024);
  });
  it('32 KiB (JSON mode, or a server without maxchunk): no cs anywhere, as older clients', async () => {
    const { fnew, offer, record } = await announcedAt(32 * 1024);
    expect(fnew).not.toHaveProperty('cs');
    expect(fnew.chunks).toBe(25);
    expect(offer).not.toHaveProperty('cs');
    expect(offer.chunks).toBe(25);
    expect(record).not.toHaveProperty('chunkBytes');
  });
});

/**
 * An offer is not acknowledged: one sent early, just before the connection dropped, may
 * never have left (files-client's resume test lost it now and then under load: bob waited
 * for an offer alice's client thought sent). After a reconnect it goes again when the
 * upload ends; recipients drop the repeat by its transfer id.
 */
describe('an early offer from before a reconnect', () => {
  /** An upload under way to a server with `fhold`: it offers as soon as its hash is known. */
  async function offeringEarly() {
    const upload = await announcedUpload(true);
    await upload.uploads.digestOf(upload.record);
    return upload;
  }

  async function offeredEarlyThenDropped() {
    const upload = await offeringEarly();
    await new Promise((r) => setImmediate(r));
    expect(upload.offers).toHaveLength(1); // the early offer
    upload.uploads.disconnected();
    return upload;
  }

  it('goes again when the resumed upload ends', async () => {
    const { uploads, record, offers } = await offeredEarlyThenDropped();
    await uploads.resumeAll([record]); // (sends fstat)
    uploads.resumeFrom(record, record.chunks); // the server has every chunk
    expect(await until(() => record.state === 'done', 5000)).toBe(true);
    expect(offers.map((offer) => offer.tid)).toEqual([record.id, record.id]);
  });

  it('goes again for an upload that was offering when the connection dropped', async () => {
    const { uploads, record, offers } = await offeredEarlyThenDropped();
    record.state = 'offering';
    await uploads.resumeAll([record]);
    expect(record.state).toBe('done');
    expect(offers.map((offer) => offer.tid)).toEqual([record.id, record.id]);
  });

  it('is not repeated when the upload ends on the connection that offered', async () => {
    const { uploads, record, offers } = await offeringEarly();
    uploads.acked(record, record.chunks); // every chunk stored: the upload ends
    expect(await until(() => record.state === 'done', 5000)).toBe(true);
    expect(offers.map((offer) => offer.tid)).toEqual([record.id]);
  });
});
