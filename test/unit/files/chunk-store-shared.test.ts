import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkStore } from '../../../src/server/files/chunk-store.js';
import { ROOMY_STORE_LIMITS } from '../../helpers/files-fixture.js';

/**
 * Two chunk stores on one directory stand for two nodes of a cluster: a shared store sees
 * the chunks the other one stores after it first read the file, and the file's deletion;
 * a store that is not shared keeps what it read (one process: nobody else writes).
 */
const LIMITS = ROOMY_STORE_LIMITS;
const CS = 32 * 1024;

describe('ChunkStore in a directory shared by several processes', () => {
  const stores: ChunkStore[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const pair = (shared: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-shared-store-'));
    dirs.push(dir);
    const writer = new ChunkStore(dir, LIMITS, { shared });
    const reader = new ChunkStore(dir, LIMITS, { shared });
    stores.push(writer, reader);
    const sealed = [randomBytes(CS + 16), randomBytes(CS + 16), randomBytes(100 + 16)];
    const bytes = sealed.reduce((n, c) => n + c.length, 0);
    const { record } = writer.create({ identityKey: 'k', name: 'alice' }, bytes, 3, ['bob'], 0, CS);
    return { writer, reader, record, sealed };
  };

  it('counts the chunks another process stored since it first read the file, up to complete', async () => {
    const { writer, reader, record, sealed } = pair(true);
    await writer.append(record, 0, sealed[0]!).written;
    const seen = reader.get(record.id, 1)!;
    expect(reader.have(record.id)).toBe(1);
    await writer.append(record, 1, sealed[1]!).written;
    expect(reader.have(record.id)).toBe(2);
    expect(seen.complete).toBe(false);
    await writer.append(record, 2, sealed[2]!).written;
    expect(reader.have(record.id)).toBe(3);
    expect(seen.complete).toBe(true);
    const chunks = await reader.read(seen, 0, 3);
    expect(chunks.every((c, i) => c.equals(sealed[i]!))).toBe(true);
  });

  it('takes the next chunk of an upload another process began (a resume through another node)', async () => {
    const { writer, reader, record, sealed } = pair(true);
    await writer.append(record, 0, sealed[0]!).written;
    const seen = reader.get(record.id, 1)!;
    await writer.append(record, 1, sealed[1]!).written;
    expect(await reader.append(seen, 2, sealed[2]!).written).toBe(3);
    expect(writer.have(record.id)).toBe(3); // and the first process sees the last chunk
  });

  it('sees a file deleted by another process, and forgets it', async () => {
    const { writer, reader, record } = pair(true);
    expect(reader.get(record.id, 1)).toBeDefined();
    expect(reader.exists(record.id)).toBe(true);
    writer.delete(record.id);
    expect(reader.exists(record.id)).toBe(false);
    expect(reader.have(record.id)).toBe(0);
  });

  it('without `shared`, keeps what it read (one process: no file system call per question)', async () => {
    const { writer, reader, record, sealed } = pair(false);
    reader.get(record.id, 1);
    await writer.append(record, 0, sealed[0]!).written;
    expect(reader.have(record.id)).toBe(0);
    writer.delete(record.id);
    expect(reader.exists(record.id)).toBe(true);
  });
});
