import { ErrorCode, ProtocolError } from '../errors.js';
import { MLKEM1024_CIPHERTEXT_BYTES } from '../limits.js';

/** Version byte of the ratchet header layout below. */
const HEADER_VERSION = 1;
const FLAG_INIT = 0x01;
const FLAG_ONE_TIME_PREKEY = 0x02;
/** PQXDH: the init carries a KEM prekey id and an ML-KEM-1024 ciphertext. */
const FLAG_KEM = 0x04;
const BASE_BYTES = 2 + 32 + 4 + 4;
const INIT_BYTES = 32 + 32 + 32;
const KEM_BYTES = 4 + MLKEM1024_CIPHERTEXT_BYTES;

/** X3DH initial-message fields (X3DH §3.3), repeated until the responder answers. */
export interface X3dhInit {
  /** Initiator's Ed25519 identity key. */
  identityKey: Uint8Array;
  /** Initiator's ephemeral X25519 key. */
  ephemeralKey: Uint8Array;
  /** The responder's signed prekey that was used. */
  signedPrekey: Uint8Array;
  /** The responder's one-time prekey id, when one was used. */
  oneTimePrekeyId?: number;
  /**
   * PQXDH (§3.3): the id of the responder's KEM prekey (one-time or last resort) the
   * initiator encapsulated to, and the ML-KEM-1024 ciphertext CT.
   */
  kem?: { id: number; cipherText: Uint8Array };
}

/** Double Ratchet message header (§3.1) plus, optionally, the X3DH init fields. */
export interface RatchetHeader {
  /** Sender's current ratchet public key. */
  dh: Uint8Array;
  /** Number of messages in the sender's previous sending chain. */
  pn: number;
  /** Message number in the current sending chain. */
  n: number;
  init?: X3dhInit;
}

/**
 * Binary layout (big-endian): version(1) ‖ flags(1) ‖ dh(32) ‖ pn(4) ‖ n(4)
 * [‖ identityKey(32) ‖ ephemeralKey(32) ‖ signedPrekey(32) [‖ oneTimePrekeyId(4)]
 * [‖ kemPrekeyId(4) ‖ kemCiphertext(1568)]].
 * The header is authenticated as associated data, never encrypted.
 */
export function encodeHeader(header: RatchetHeader): Uint8Array {
  const init = header.init;
  const opk = init?.oneTimePrekeyId !== undefined;
  const size = BASE_BYTES + (init ? INIT_BYTES + (opk ? 4 : 0) + (init.kem ? KEM_BYTES : 0) : 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = HEADER_VERSION;
  out[1] = (init ? FLAG_INIT : 0) | (opk ? FLAG_ONE_TIME_PREKEY : 0) | (init?.kem ? FLAG_KEM : 0);
  out.set(header.dh, 2);
  view.setUint32(34, header.pn);
  view.setUint32(38, header.n);
  if (init) {
    out.set(init.identityKey, 42);
    out.set(init.ephemeralKey, 74);
    out.set(init.signedPrekey, 106);
    if (init.oneTimePrekeyId !== undefined) view.setUint32(138, init.oneTimePrekeyId);
    if (init.kem) {
      if (init.kem.cipherText.length !== MLKEM1024_CIPHERTEXT_BYTES)
        throw new RangeError('KEM ciphertext must be 1568 bytes');
      const at = 138 + (opk ? 4 : 0);
      view.setUint32(at, init.kem.id);
      out.set(init.kem.cipherText, at + 4);
    }
  }
  return out;
}

function bad(message: string): never {
  throw new ProtocolError(ErrorCode.BAD_FIELD, `ratchet header: ${message}`);
}

/** Strict inverse of {@link encodeHeader}. @throws ProtocolError `E_BAD_FIELD`. */
export function decodeHeader(bytes: Uint8Array): RatchetHeader {
  if (bytes.length < BASE_BYTES) bad('too short');
  if (bytes[0] !== HEADER_VERSION) bad(`unknown version ${bytes[0]}`);
  const flags = bytes[1]!;
  if ((flags & ~(FLAG_INIT | FLAG_ONE_TIME_PREKEY | FLAG_KEM)) !== 0) bad('unknown flags');
  if ((flags & (FLAG_ONE_TIME_PREKEY | FLAG_KEM)) !== 0 && (flags & FLAG_INIT) === 0)
    bad('prekey id without init');
  const opkBytes = flags & FLAG_ONE_TIME_PREKEY ? 4 : 0;
  const expected =
    BASE_BYTES +
    (flags & FLAG_INIT ? INIT_BYTES : 0) +
    opkBytes +
    (flags & FLAG_KEM ? KEM_BYTES : 0);
  if (bytes.length !== expected) bad(`expected ${expected} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: RatchetHeader = {
    dh: bytes.slice(2, 34),
    pn: view.getUint32(34),
    n: view.getUint32(38),
  };
  if (flags & FLAG_INIT) {
    header.init = {
      identityKey: bytes.slice(42, 74),
      ephemeralKey: bytes.slice(74, 106),
      signedPrekey: bytes.slice(106, 138),
      ...(flags & FLAG_ONE_TIME_PREKEY ? { oneTimePrekeyId: view.getUint32(138) } : {}),
    };
    if (flags & FLAG_KEM) {
      const at = 138 + opkBytes;
      header.init.kem = {
        id: view.getUint32(at),
        cipherText: bytes.slice(at + 4, at + 4 + MLKEM1024_CIPHERTEXT_BYTES),
      };
    }
  }
  return header;
}
