import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFileChunkHeader, FILE_BINARY_CHUNK_BYTES } from '../../../src/protocol/index.js';
import { systemClock } from '../../../src/server/clock.js';
import { ChunkStore } from '../../../src/server/files/chunk-store.js';
import { FileService, type FileSession } from '../../../src/server/files/file-service.js';
import { FileStats } from '../../../src/server/files/file-stats.js';
import { createLogger } from '../../../src/server/logger.js';
import { SessionOutput } from '../../../src/server/session-output.js';
import { ServerStats } from '../../../src/server/stats.js';
import { recordingTransport } from '../../helpers/fake-transport.js';
import { ROOMY_STORE_LIMITS } from '../../helpers/files-fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A session whose chunk replies go through a real SessionOutput to a transport that lends. */
function lendingSession() {
  const { transport, lends } = recordingTransport(true);
  const output = new SessionOutput(
    transport,
    new ServerStats(),
    { maxQueueBytes: 1 << 20, slowReaderGraceMs: 1000 },
    () => 0,
    () => {},
  );
  const replies: string[] = [];
  const session: FileSession = {
    name: 'bob',
    identityKey: 'bob-key',
    open: true,
    binaryChunks: true,
    queuedBytes: 0,
    reply: (line) => replies.push(line) > 0,
    replyBytes: (header, body, lent) => output.replyBytes(header, body, lent),
    whenDrained: () => Promise.resolve(),
  };
  return { session, lends, replies };
}

describe('FileService downloads lend their read buffer to the socket', () => {
  it('writes chunks as views of the read buffer and reuses it only once every chunk is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-lend-'));
    dirs.push(dir);
    const store = new ChunkStore(dir, ROOMY_STORE_LIMITS);
    const cs = FILE_BINARY_CHUNK_BYTES;
    const sealed = [randomBytes(cs + 16), randomBytes(cs + 16), randomBytes(100 + 16)];
    const bytes = sealed.reduce((n, c) => n + c.length, 0);
    const { record, cap } = store.create(
      { identityKey: 'alice-key', name: 'alice' },
      bytes,
      3,
      ['bob'],
      Date.now(),
      cs,
    );
    for (const [i, chunk] of sealed.entries()) await store.append(record, i, chunk).written;
    const service = new FileService({
      store,
      rooms: { membersOf: () => undefined },
      clock: systemClock,
      stats: new FileStats(),
      logger: createLogger({ level: 'silent' }),
    });
    const { session, lends, replies } = lendingSession();

    await service.handle(session, { type: 'fget', file: record.id, cap, i: 0, n: 2 });
    expect(replies).toEqual([]);
    expect(lends.map((l) => l.header)).toEqual(
      sealed.slice(0, 2).map((c, i) => encodeFileChunkHeader(record.id, i, c.length)),
    );
    expect(lends.map((l, i) => Buffer.from(l.body).equals(sealed[i]!))).toEqual([true, true]);
    const batch = lends[0]!.body.buffer;
    expect(lends[1]!.body.buffer === batch).toBe(true); // views of the read buffer: no copy
    // The batch is over, but its chunks are still the socket's: the buffer stays out.
    expect(service.readBuffers.free).toBe(0);
    lends[0]!.written();
    expect(service.readBuffers.free).toBe(0);
    // Meanwhile the next batch reads into another buffer, not over the lent one.
    await service.handle(session, { type: 'fget', file: record.id, cap, i: 2, n: 1 });
    expect(lends[2]!.body.buffer === batch).toBe(false);
    expect(Buffer.from(lends[2]!.body).equals(sealed[2]!)).toBe(true);
    lends[1]!.written();
    lends[2]!.written();
    expect(service.readBuffers.free).toBe(2);
    const again = [service.readBuffers.take()!, service.readBuffers.take()!];
    expect(again.some((b) => b.buffer === batch)).toBe(true); // written out: reused
    await store.close();
  });
});
