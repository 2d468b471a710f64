import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ErrorCode, ProtocolError } from '../errors.js';
import { GCM_NONCE_BYTES, GCM_TAG_BYTES } from '../limits.js';
import { FILE_CHUNK_BYTES, FILE_ID_BYTES, FILE_KEY_BYTES, MAX_FILE_CHUNKS } from './file-limits.js';

/**
 * Chunk encryption of an end-to-end encrypted file (AES-256-GCM, node:crypto).
 *
 * - One fresh random 32-byte key per transfer (never reused: a resumed upload of changed
 *   bytes is a new transfer with a new key), so a nonce need only be unique per key.
 * - The nonce of chunk `i` is `0x00000000 ‖ uint64_be(i)`: chunk indices are distinct, so
 *   (key, nonce) never repeats (NIST SP 800-38D §8.2.1, deterministic construction).
 * - The associated data binds the transfer id, the chunk index and whether it is the last
 *   chunk: a chunk moved to another index (reordering), replayed at another index, taken
 *   from another transfer, or a file cut short (no chunk opens as final at a smaller
 *   index) fails authentication.
 * - The SHA-256 of the whole plaintext travels in the descriptor (inside the E2EE message)
 *   and is checked once every chunk opened.
 */

const AAD_LABEL = new TextEncoder().encode('securechat-file-chunk-v1');

/** Number of chunks of a file of `size` bytes: at least one (an empty file has one empty, final chunk). */
export function chunkCount(size: number, chunkBytes = FILE_CHUNK_BYTES): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

/** Plaintext bytes of chunk `index` of a file of `size` bytes. */
export function chunkPlainLength(
  size: number,
  index: number,
  chunkBytes = FILE_CHUNK_BYTES,
): number {
  const start = index * chunkBytes;
  return Math.max(0, Math.min(chunkBytes, size - start));
}

/** The 12-byte nonce of chunk `index`: four zero bytes, then the index as a big-endian uint64. */
export function chunkNonce(index: number): Uint8Array {
  checkIndex(index);
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(index));
  return nonce;
}

/** Associated data of chunk `index`: label ‖ transfer id (16 bytes) ‖ uint64_be(index) ‖ final (1 byte). */
export function chunkAad(transferId: Uint8Array, index: number, final: boolean): Uint8Array {
  if (transferId.length !== FILE_ID_BYTES)
    throw new ProtocolError(ErrorCode.BAD_KEY, `a transfer id is ${FILE_ID_BYTES} bytes`);
  checkIndex(index);
  const aad = new Uint8Array(AAD_LABEL.length + FILE_ID_BYTES + 9);
  aad.set(AAD_LABEL, 0);
  aad.set(transferId, AAD_LABEL.length);
  const view = new DataView(aad.buffer);
  view.setBigUint64(AAD_LABEL.length + FILE_ID_BYTES, BigInt(index));
  aad[aad.length - 1] = final ? 1 : 0;
  return aad;
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_FILE_CHUNKS)
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'chunk index out of range');
}

function checkKey(key: Uint8Array): void {
  if (key.length !== FILE_KEY_BYTES)
    throw new ProtocolError(ErrorCode.BAD_KEY, `a file key is ${FILE_KEY_BYTES} bytes`);
}

/** Where a chunk sits in its transfer. */
export interface ChunkPosition {
  transferId: Uint8Array;
  index: number;
  final: boolean;
}

/**
 * Encrypts one chunk: returns `ciphertext ‖ 16-byte tag`.
 * @throws ProtocolError `E_BAD_KEY` for a wrong key or id length, `E_BAD_FIELD` for a bad index.
 */
export function sealChunk(key: Uint8Array, at: ChunkPosition, plain: Uint8Array): Uint8Array {
  const [body, tag] = sealChunkParts(key, at, plain);
  return Buffer.concat([body, tag]);
}

/**
 * {@link sealChunk} without joining: `[ciphertext, 16-byte tag]`, whose concatenation is the
 * sealed chunk. A sender writing both to the wire back to back spares a copy of every chunk
 * (and the garbage collector the copy's buffer).
 */
export function sealChunkParts(
  key: Uint8Array,
  at: ChunkPosition,
  plain: Uint8Array,
): [Uint8Array, Uint8Array] {
  checkKey(key);
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(at.index), {
    authTagLength: GCM_TAG_BYTES,
  });
  cipher.setAAD(chunkAad(at.transferId, at.index, at.final));
  const body = cipher.update(plain);
  const rest = cipher.final(); // (GCM is a stream mode: empty)
  return [rest.length === 0 ? body : Buffer.concat([body, rest]), cipher.getAuthTag()];
}

/**
 * Decrypts one chunk sealed by {@link sealChunk} at the same position.
 * @throws ProtocolError `E_DECRYPT_FAILED` when it was altered, moved, replayed at another
 *   index, taken from another transfer, or its final flag differs (no plaintext is returned).
 */
export function openChunk(key: Uint8Array, at: ChunkPosition, sealed: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < GCM_TAG_BYTES)
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'a file chunk is shorter than its tag');
  const body = sealed.subarray(0, sealed.length - GCM_TAG_BYTES);
  const tag = sealed.subarray(sealed.length - GCM_TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(at.index), {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAAD(chunkAad(at.transferId, at.index, at.final));
    decipher.setAuthTag(tag);
    const plain = decipher.update(body);
    const rest = decipher.final();
    return rest.length === 0 ? plain : Buffer.concat([plain, rest]);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.DECRYPT_FAILED, 'a file chunk failed authentication', {
      cause,
    });
  }
}
