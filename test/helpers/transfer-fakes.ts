import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import type { TransferHost } from '../../src/client/transfers/transfer-host.js';
import type { DownloadRecord } from '../../src/client/transfers/transfer-record.js';

/**
 * A transfer host that sends nothing anywhere: binary chunks, 32 KiB chunk size, early
 * offers, never ready unless `overrides` says otherwise.
 */
export function fakeTransferHost(overrides: Partial<TransferHost> = {}): TransferHost {
  return {
    now: () => 0,
    ready: () => false,
    binaryChunks: () => true,
    chunkBytes: () => 32 * 1024,
    offerEarly: () => true,
    send: () => true,
    save: () => undefined,
    replace: () => undefined,
    sendOffer: async () => true,
    progress: () => undefined,
    ...overrides,
  };
}

/** Descriptors this process holds open on `path` (Linux /proc). */
export function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // (closed while listed)
    }
  }
  return n;
}

/** A download being fetched: `w.bin` offered by alice as transfer `tid` (key and digest Base64). */
export function downloadRecord(
  tid: Buffer,
  o: { size: number; chunks: number; key: string; digest: string },
): DownloadRecord {
  return {
    dir: 'down',
    id: tid.toString('hex'),
    from: 'alice',
    offer: {
      t: 'file',
      tid: tid.toString('hex'),
      file: '0123456789abcdef0123456789abcdef',
      cap: randomBytes(32).toString('base64'),
      name: 'w.bin',
      size: o.size,
      chunks: o.chunks,
      mime: 'application/octet-stream',
      key: o.key,
      digest: o.digest,
      ts: 0,
    },
    state: 'downloading',
    created: 0,
  };
}
