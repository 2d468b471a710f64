import { readdirSync, readlinkSync } from 'node:fs';
import type { TransferHost } from '../../src/client/transfers/transfer-host.js';

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
