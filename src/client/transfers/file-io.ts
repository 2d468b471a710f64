import { createHash } from 'node:crypto';
import { chmod, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MAX_SAVED_NAME_BYTES, numberedFileName, safeFileName } from '../../protocol/index.js';

/** Bytes read at a time when hashing a file. */
const HASH_READ_BYTES = 1024 * 1024;

/**
 * SHA-256 of a file, read a megabyte at a time into one buffer (the file is never held in
 * memory, and no buffer is allocated per read: a 200 MiB file would otherwise leave 200
 * MiB of garbage, which costs the collector more than the hashing).
 */
export async function hashFile(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(HASH_READ_BYTES);
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return hash.digest();
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.json': 'application/json',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
};

/** A media type from the extension (shown to the recipient, never acted on). */
export function guessMime(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Creates the download directory (0700) if missing. */
export async function ensureDownloadDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** The temporary file of a download: hidden, named by transfer id, inside the download directory. */
export function tempPathFor(dir: string, transferId: string): string {
  return join(dir, `.securechat-${transferId}.part`);
}

/** Opens (creating 0600) the temporary file of a download for positional writes. */
export async function openTemp(path: string) {
  const handle = await open(path, 'a+', 0o600);
  await handle.close();
  await chmod(path, 0o600);
  return open(path, 'r+');
}

/** Bytes in a file, 0 when it does not exist. */
export async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Moves a finished download into place under a safe name that never overwrites anything:
 * `name`, else `name (1)`, `name (2)`, … A hard link fails when the name exists (atomic,
 * no race with another writer); where links are not supported, a placeholder created
 * exclusively ('wx') is replaced by rename. Returns the final path.
 */
export async function saveUnique(temp: string, dir: string, peerName: string): Promise<string> {
  const base = safeFileName(peerName, MAX_SAVED_NAME_BYTES);
  for (let n = 0; n < 10_000; n++) {
    const target = join(dir, n === 0 ? base : numberedFileName(base, n));
    try {
      await link(temp, target);
      await unlink(temp);
      return target;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    }
    try {
      const placeholder = await open(target, 'wx', 0o600);
      await placeholder.close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    await rename(temp, target);
    return target;
  }
  throw new Error('no free file name in the download directory');
}

/** Removes a file if it exists. */
export async function removeQuietly(path: string | undefined): Promise<void> {
  if (!path) return;
  try {
    await unlink(path);
  } catch {
    // already gone
  }
}
