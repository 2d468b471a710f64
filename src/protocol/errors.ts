/**
 * Stable error codes shared by the wire (`error` frames), logs and tests.
 * Every code is documented in docs/PROTOCOL.md; tests assert codes, never message texts.
 */
export const ErrorCode = {
  // transport (sent in plain text to a client that did not start TLS)
  TLS_REQUIRED: 'E_TLS_REQUIRED',
  // framing (fatal: the decoder is dead after these)
  FRAME_TOO_LONG: 'E_FRAME_TOO_LONG',
  /** A binary chunk header announced more bytes than the negotiated maximum (`fbin`). */
  BODY_TOO_LONG: 'E_BODY_TOO_LONG',
  // per-frame validation (the frame is dropped, the connection goes on)
  BAD_UTF8: 'E_BAD_UTF8',
  BAD_JSON: 'E_BAD_JSON',
  NOT_OBJECT: 'E_NOT_OBJECT',
  JSON_TOO_COMPLEX: 'E_JSON_TOO_COMPLEX',
  FORBIDDEN_KEY: 'E_FORBIDDEN_KEY',
  UNKNOWN_TYPE: 'E_UNKNOWN_TYPE',
  BAD_FIELD: 'E_BAD_FIELD',
  // session state
  HELLO_REQUIRED: 'E_HELLO_REQUIRED',
  ALREADY_HELLO: 'E_ALREADY_HELLO',
  HELLO_TIMEOUT: 'E_HELLO_TIMEOUT',
  BAD_NAME: 'E_BAD_NAME',
  NAME_TAKEN: 'E_NAME_TAKEN',
  /** v2: the name is bound to another identity key. */
  NAME_BOUND: 'E_NAME_BOUND',
  /** A v1 hello for a name bound to an identity: the identity proof is required. */
  IDENTITY_REQUIRED: 'E_IDENTITY_REQUIRED',
  /** v2: the signature over the X25519 key or the connection proof did not verify. */
  BAD_PROOF: 'E_BAD_PROOF',
  /** v2: this session was replaced by a newer connection proving the same identity. */
  REPLACED: 'E_REPLACED',
  // relay
  PEER_OFFLINE: 'E_PEER_OFFLINE',
  /** The recipient stopped reading and was disconnected; the relay was not delivered. */
  PEER_SLOW: 'E_PEER_SLOW',
  /** The recipient is offline and the server cannot store more messages for it. */
  MAILBOX_FULL: 'E_MAILBOX_FULL',
  /** No prekey bundle: the user is unknown here or a legacy (v1) client. */
  NO_BUNDLE: 'E_NO_BUNDLE',
  /** The frame needs a v2 session proven with an identity key. */
  NEEDS_IDENTITY: 'E_NEEDS_IDENTITY',
  // rooms
  NOT_MEMBER: 'E_NOT_MEMBER',
  BANNED: 'E_BANNED',
  BAD_PASSWORD: 'E_BAD_PASSWORD',
  LOCKED_OUT: 'E_LOCKED_OUT',
  FORBIDDEN: 'E_FORBIDDEN',
  NO_SUCH_ROOM: 'E_NO_SUCH_ROOM',
  NO_SUCH_USER: 'E_NO_SUCH_USER',
  // quotas (hostile users multiply names, identities and connections)
  /** A check the server runs one at a time per source (room passwords) is already running, or its queue is full: retry later. */
  BUSY: 'E_BUSY',
  /** A new name cannot be registered now: this identity, address or the server took too many new names. */
  NAME_QUOTA: 'E_NAME_QUOTA',
  /** A new room cannot be created: you own too many rooms, or the server holds its maximum. */
  ROOM_QUOTA: 'E_ROOM_QUOTA',
  // files
  /** The file is larger than the server's `--max-file-size`. */
  FILE_TOO_BIG: 'E_FILE_TOO_BIG',
  /** The file does not fit the uploader's quota or the chunk store's total. */
  FILE_QUOTA: 'E_FILE_QUOTA',
  /** No such file (never existed, expired, deleted, or the capability is wrong). */
  NO_SUCH_FILE: 'E_NO_SUCH_FILE',
  /** A chunk out of order, of the wrong length, or past the last one. */
  FILE_CHUNK: 'E_FILE_CHUNK',
  /** A chunk not uploaded yet, and the upload did not go on in time: ask again later. */
  FILE_PENDING: 'E_FILE_PENDING',
  // end-to-end (client side only; never sent by the server)
  DECRYPT_FAILED: 'E_DECRYPT_FAILED',
  /** A ratchet message would skip more message keys than allowed (MAX_SKIP). */
  RATCHET_TOO_MANY_SKIPPED: 'E_RATCHET_TOO_MANY_SKIPPED',
  /** A ratchet message whose key was already used: a replay or a duplicate. */
  RATCHET_DUPLICATE: 'E_RATCHET_DUPLICATE',
  /** A ratchet message for a session this client does not have (the sender re-runs setup). */
  RATCHET_NO_SESSION: 'E_RATCHET_NO_SESSION',
  /** An X3DH init names a signed or one-time prekey this client does not hold (used, or stale). */
  RATCHET_UNKNOWN_PREKEY: 'E_RATCHET_UNKNOWN_PREKEY',
  BAD_KEY: 'E_BAD_KEY',
  // server state
  RATE_LIMITED: 'E_RATE_LIMITED',
  IDLE_TIMEOUT: 'E_IDLE_TIMEOUT',
  SHUTTING_DOWN: 'E_SHUTTING_DOWN',
  INTERNAL: 'E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options for {@link ProtocolError}. */
export interface ProtocolErrorOptions {
  /** True when the connection cannot safely continue after this error. */
  fatal?: boolean;
  cause?: unknown;
}

/**
 * The one error class of the protocol core: a stable `code`, a human message that never
 * contains key material or plaintext, and whether it is fatal for the connection
 * (the idea of ssh2's `fatal`).
 */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly fatal: boolean;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.fatal = options.fatal ?? false;
  }
}
