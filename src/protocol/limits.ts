/**
 * Every protocol limit in one place (as nats.js keeps its defaults in `options.ts`): each
 * bound on a length, size, count or age that the wire format, its parsers or the E2EE state
 * machines enforce (the field patterns in fields.ts are built from these), the defaults of
 * the ones a server or client may adjust, and the key, signature and nonce lengths of the
 * primitives. Not here: the byte layouts of binary headers (beside their codecs in
 * ratchet/header.ts and sender-keys.ts), domain-separation strings (beside the code that
 * signs or derives with them), and the server's own policy (quotas, rates, lifetimes:
 * src/server/config.ts).
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

/** User names: ASCII letters, digits, `_`, `.`, `-`; 1 to 32 characters (rooms add a `#`). */
export const MAX_NAME_LENGTH = 32;
/** Longest envelope algorithm identifier (`alg`). */
export const MAX_ALG_LENGTH = 32;
/** Longest client message id (`id`). */
export const MAX_MESSAGE_ID_LENGTH = 64;
/** Most capability names in one `caps` list. */
export const MAX_CAPS = 16;
/** Longest capability name. */
export const MAX_CAP_LENGTH = 32;
/** Highest protocol version `v` a hello may name (newer than ours is refused by the server). */
export const MAX_PROTOCOL_VERSION = 1000;

/**
 * Largest ratchet header a relay may carry (decoded bytes): a PQXDH init header is 1,714
 * bytes (1,568 of them the ML-KEM-1024 ciphertext); an X3DH one 142.
 */
export const MAX_RELAY_HEADER_BYTES = 2048;

/** Most one-time prekeys in one `prekeys` upload. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/**
 * Most one-time KEM prekeys (ML-KEM-1024, about 2.2 KB each in JSON) in one upload: 25 make
 * a line of about 56 KB, inside the server's default 64 KiB line limit.
 */
export const MAX_KEM_PREKEYS_PER_UPLOAD = 25;
/** Most one-time KEM prekeys the server keeps per identity (about 160 KB of keys). */
export const MAX_STORED_KEM_PREKEYS = 100;
/** Below this many stored one-time KEM prekeys the owner uploads more. */
export const KEM_PREKEY_LOW_WATERMARK = 10;
/**
 * Smallest `--max-line` at which a server offers `pq`: a full KEM prekey upload (25 keys,
 * largest ids and times) must fit.
 */
export const PQ_MIN_MAX_LINE_BYTES = 60 * 1024;
/** Most one-time prekeys the server keeps per identity. */
export const MAX_STORED_PREKEYS = 200;
/** Below this many stored prekeys the server tells the owner to upload more. */
export const PREKEY_LOW_WATERMARK = 20;

/** Longest room password accepted (bytes of UTF-8). */
export const MAX_ROOM_PASSWORD_BYTES = 256;
/** Longest topic, MOTD or moderation reason (bytes of UTF-8). */
export const MAX_TOPIC_LENGTH = 300;
/** Longest sender-key header a room message may carry (decoded bytes). */
export const MAX_ROOM_HEADER_BYTES = 256;
/** Longest room ban, in seconds (ten years). */
export const MAX_BAN_SECONDS = 10 * 365 * 86_400;

/** Most message keys skipped in one chain step (Double Ratchet §3.2 MAX_SKIP). */
export const MAX_SKIP = 1000;
/** Most skipped message keys kept in total (oldest evicted first), as libsignal bounds it. */
export const MAX_STORED_SKIPPED_KEYS = 2000;
/** Previous receiving ratchet keys remembered to recognize replays from finished chains. */
export const MAX_PREVIOUS_RATCHETS = 8;
/** Most iterations a receiver fast-forwards a room sender chain in one message. */
export const MAX_SENDER_KEY_SKIP = 1000;
/** Most skipped message keys kept per room sender key. */
export const MAX_SENDER_KEY_STORED = 2000;

/**
 * Initiators refuse a signed prekey older than this: its owner rotates weekly whenever
 * online, and the server keeps mailboxes only for identities seen within 30 days, so an older
 * one is a stale key a server keeps alive (whose secret may be gone, or stolen).
 */
export const SIGNED_PREKEY_MAX_AGE_MS = 45 * 24 * 3_600_000;
/** ... or created further in the future than this (clock skew allowance). */
export const SIGNED_PREKEY_MAX_FUTURE_MS = 24 * 3_600_000;
/** A new signed prekey is made when the current one is this old (Signal rotates weekly). */
export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 3_600_000;
/**
 * The previous signed prekey's secret is kept this long after it was replaced, so first
 * messages stored for us while offline still open (the server's default mailbox TTL).
 */
export const SIGNED_PREKEY_RETENTION_MS = 7 * 24 * 3_600_000;

/** X25519 public key length (RFC 7748). */
export const X25519_KEY_BYTES = 32;
/** Ed25519 key and signature lengths (RFC 8032). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** ML-KEM-1024 sizes (FIPS 203 Table 3) and its 64-byte key-generation seed d ‖ z. */
export const MLKEM1024_PUBLIC_KEY_BYTES = 1568;
export const MLKEM1024_CIPHERTEXT_BYTES = 1568;
export const MLKEM1024_SEED_BYTES = 64;
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
