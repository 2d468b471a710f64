/**
 * Every protocol limit in one place (as nats.js keeps its defaults in `options.ts`).
 * Servers and clients expose the adjustable ones as options; the rest are fixed by the
 * wire format.
 */

/** Default cap on one inbound line from a client, in bytes, excluding the newline. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** Smallest `--max-line` accepted: a hello with the longest name and key must fit. */
export const MIN_MAX_LINE_BYTES = 1024;
/** Largest `--max-line` accepted. */
export const MAX_MAX_LINE_BYTES = 16 * 1024 * 1024;
/**
 * Cap on one inbound line at the client (server → client). Directory frames grow with
 * the number of users online, so this is larger than the client → server cap.
 */
export const DEFAULT_CLIENT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Maximum nesting of arrays/objects in a frame (our frames need 3). */
export const MAX_JSON_DEPTH = 8;
/** Maximum number of keys in the top-level frame object. */
export const MAX_FRAME_FIELDS = 32;
/** Maximum number of JSON values (objects, arrays, scalars) in nested fields. */
export const MAX_JSON_NODES = 200_000;

/** User names: ASCII letters, digits, `_`, `.`, `-`; 1 to 32 characters. */
export const MAX_NAME_LENGTH = 32;

/** X25519 public key length (RFC 7748). */
export const X25519_KEY_BYTES = 32;
/** AES-GCM nonce length used by the v1 envelope. */
export const GCM_NONCE_BYTES = 12;
/** AES-GCM tag length; ciphertexts are `ciphertext || tag`. */
export const GCM_TAG_BYTES = 16;

/** Default TLS handshake timeout at the server. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default time a connection may stay without a valid hello. */
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;

/** Default TCP port of the daemon. */
export const DEFAULT_PORT = 5000;

/** Default stored messages per mailbox page; the next page follows the client's `fetched`. */
export const DEFAULT_MAILBOX_PAGE_MESSAGES = 100;
/** Default bytes per mailbox page (a page always holds at least one message). */
export const DEFAULT_MAILBOX_PAGE_BYTES = 256 * 1024;
/** Rooms listed in one `rooms` answer at most; the client asks for more with `after`. */
export const ROOMS_PAGE_MAX = 50;
/** Bytes of one `rooms` answer at most (topics escaped): replies stay small whatever the rooms hold. */
export const ROOMS_PAGE_BYTES = 32 * 1024;
/**
 * Shortest idle timeout for v1 sessions: seed clients never ping, so a v1 session that only
 * listens must survive at least this long.
 */
export const MIN_V1_IDLE_TIMEOUT_MS = 3_600_000;
