import { describe, expect, it } from 'vitest';
import { eventSink } from '../../../src/client/events.js';
import {
  FINISHED_KEEP_MS,
  TransferManager,
} from '../../../src/client/transfers/transfer-manager.js';
import type { TransferRecord } from '../../../src/client/transfers/transfer-record.js';
import { MemoryTransferStore } from '../../../src/client/transfers/transfer-store.js';

const NOW = Date.UTC(2026, 10, 30);

function upload(id: string, state: TransferRecord['state'], created: number): TransferRecord {
  return {
    dir: 'up',
    id,
    path: '/tmp/x',
    size: 1,
    mtimeMs: 0,
    target: 'bob',
    name: 'x',
    mime: 'application/octet-stream',
    chunks: 1,
    key: 'k',
    digest: 'd',
    state: state as 'done',
    created,
  };
}

describe('finished transfers are pruned after FINISHED_KEEP_MS', () => {
  it('drops old finished records from the store at start, keeps recent and unfinished ones', () => {
    const store = new MemoryTransferStore();
    const old = NOW - FINISHED_KEEP_MS - 1;
    store.save(upload('a'.repeat(32), 'done', old));
    store.save(upload('b'.repeat(32), 'failed', old));
    store.save(upload('c'.repeat(32), 'uploading', old)); // still to resume: kept
    store.save(upload('d'.repeat(32), 'done', NOW - 1000)); // recent: kept
    new TransferManager({
      persistence: store,
      downloadDir: '/tmp/none',
      link: { send: () => false, ready: false, offers: () => false },
      sendOffer: async () => true,
      sink: eventSink(
        () => undefined,
        () => NOW,
      ),
      now: () => NOW,
    });
    expect([...store.records.keys()].map((id) => id[0]).sort()).toEqual(['c', 'd']);
  });
});
