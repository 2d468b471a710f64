/**
 * Limits of end-to-end encrypted file transfer (see docs/PROTOCOL.md "Files"). The
 * server's policy (quotas, maximum size, time to live, rates) is in src/server/config.ts.
 */

/**
 * Plaintext bytes per chunk. A sealed chunk (plus its 16-byte tag) is 43,712 Base64
 * characters, so an `fput` line stays well inside the default 64 KiB line limit.
 */
export const FILE_CHUNK_BYTES = 32 * 1024;
/** Sealed (ciphertext ‖ tag) bytes of a full chunk. */
export const FILE_SEALED_CHUNK_BYTES = FILE_CHUNK_BYTES + 16;
/**
 * Binary mode (`fbin`) carries bigger chunks: the uploader announces its chunk size (`cs`
 * in `fnew` and in the descriptor), a power of two from FILE_CHUNK_BYTES to
 * MAX_FILE_CHUNK_BYTES. Absent, a chunk is FILE_CHUNK_BYTES (old clients, JSON mode).
 * A server that takes big chunks says so in its welcome (`maxchunk`); its binary body
 * limit is one sealed chunk of that size (all a hostile client can make it buffer).
 */
export const MAX_FILE_CHUNK_BYTES = 1024 * 1024;
/** The chunk size our uploads use in binary mode (bench/RESULTS.md: 256 KiB against 1 MiB). */
export const FILE_BINARY_CHUNK_BYTES = 256 * 1024;

/** A chunk size a peer may announce: a power of two from 32 KiB to 1 MiB. */
export function isValidChunkBytes(value: unknown): value is number {
  return (
    Number.isSafeInteger(value) &&
    (value as number) >= FILE_CHUNK_BYTES &&
    (value as number) <= MAX_FILE_CHUNK_BYTES &&
    ((value as number) & ((value as number) - 1)) === 0
  );
}

/** Sealed bytes of a full chunk of `chunkBytes` plaintext bytes. */
export const sealedChunkBytes = (chunkBytes: number = FILE_CHUNK_BYTES): number => chunkBytes + 16;

/**
 * Bytes of chunks one `fget` may ask for (sixteen 32 KiB chunks, as before big chunks):
 * what the server reads into memory for one request, and the unit a download runs ahead in.
 */
export const MAX_FILE_GET_BYTES = 16 * FILE_CHUNK_BYTES;

/** Most chunks of size `chunkBytes` one `fget` may ask for (at least one). */
export const maxGetChunks = (chunkBytes: number = FILE_CHUNK_BYTES): number =>
  Math.max(1, Math.floor(MAX_FILE_GET_BYTES / chunkBytes));

/** Smallest line limit at which a server offers `files`: a full `fput` must fit. */
export const FILES_MIN_MAX_LINE_BYTES = 48 * 1024;
/** Most chunks of one file (2^31 chunks of 32 KiB = 64 TiB: far above any server limit). */
export const MAX_FILE_CHUNKS = 2 ** 31;
/** Largest file size a descriptor may announce (bytes): what MAX_FILE_CHUNKS chunks hold. */
export const MAX_FILE_BYTES = MAX_FILE_CHUNKS * FILE_CHUNK_BYTES;
/** File key (AES-256) and SHA-256 digest lengths. */
export const FILE_KEY_BYTES = 32;
export const FILE_DIGEST_BYTES = 32;
/** Transfer ids (client-chosen, bound into each chunk's AAD) and server file ids. */
export const FILE_ID_BYTES = 16;
/** Download capability the server hands the uploader (random, compared in constant time). */
export const FILE_CAP_BYTES = 32;
/** Most recipients named in one `fnew` (a room's members are listed by the server itself). */
export const MAX_FILE_RECIPIENTS = 16;
/** Most chunks one `fget` asks for; the server sends them as they fit the file queue budget. */
export const MAX_FILE_GET_CHUNKS = 16;
/** Longest file name a descriptor may carry (UTF-8 bytes); receivers shorten it further. */
export const MAX_FILE_NAME_BYTES = 16 * 1024;
/** Longest media type a descriptor may carry. */
export const MAX_FILE_TYPE_LENGTH = 127;
/** A saved file's name is cut to this many UTF-8 bytes (most file systems allow 255). */
export const MAX_SAVED_NAME_BYTES = 200;
