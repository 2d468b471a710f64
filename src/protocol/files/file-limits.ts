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
