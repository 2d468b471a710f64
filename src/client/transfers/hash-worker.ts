import { Worker } from 'node:worker_threads';

/**
 * The worker's code (CommonJS, evaluated: no file to find next to the compiled module):
 * SHA-256 of `workerData.path`, read a megabyte at a time into one buffer.
 */
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
try {
  const fd = openSync(workerData.path, 'r');
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafeSlow(1024 * 1024);
  try {
    for (let position = 0; ; ) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  parentPort.postMessage({ digest: hash.digest() });
} catch (error) {
  parentPort.postMessage({ error: (error && (error.code || error.message)) || 'error' });
}
`;

/**
 * SHA-256 of a file computed on a worker thread, so the sender's main thread seals and
 * uploads chunks meanwhile (the upload does not wait for the hash; the offer, which
 * carries the digest, does). Resolves with the digest, or with the reason it could not be
 * read (never rejects).
 */
export function hashFileOffThread(path: string): Promise<Buffer | string> {
  return new Promise((resolve) => {
    const worker = new Worker(HASH_WORKER, { eval: true, workerData: { path } });
    worker.once('message', (message: { digest?: Uint8Array; error?: string }) => {
      resolve(message.digest ? Buffer.from(message.digest) : (message.error ?? 'error'));
    });
    worker.once('error', (error) => resolve(error.message));
    worker.once('exit', (code) => resolve(`the hashing thread exited (${code})`));
  });
}
