import {
  ErrorCode,
  generateX25519KeyPair,
  identityFingerprint,
  isValidName,
  keyFingerprint,
  nameKey,
  ProtocolError,
  toBase64,
  type X25519KeyPair,
} from '../../protocol/index.js';
import type { LocalIdentity } from './keystore.js';

/**
 * This client's user as peers and the server see it: a name, the static X25519 key (the
 * hello key, and the key of v1 envelopes and notes to self) and, in v2, the long-term
 * identity. Without an identity the key is made fresh for the run (legacy v1 mode).
 */
export class LocalUser {
  readonly name: string;
  readonly identity: LocalIdentity | undefined;
  readonly keyPair: X25519KeyPair;
  /** The v1 fingerprint of `keyPair` (what `/fp` shows as "key"). */
  readonly fingerprint: string;

  /** @throws ProtocolError `E_BAD_NAME` for a name peers could not address. */
  constructor(name: string, identity?: LocalIdentity) {
    if (!isValidName(name)) throw new ProtocolError(ErrorCode.BAD_NAME, 'invalid user name');
    this.name = name;
    this.identity = identity;
    this.keyPair = identity?.x25519 ?? generateX25519KeyPair();
    this.fingerprint = keyFingerprint(this.keyPair.publicKey);
  }

  /** Whether `name` is ours (names compare case-insensitively). */
  is(name: string): boolean {
    return nameKey(name) === nameKey(this.name);
  }

  /** Our keys as the directory should list them (Base64). */
  get listed(): { pub: string; idk?: string } {
    const pub = toBase64(this.keyPair.publicKey);
    return this.identity ? { pub, idk: toBase64(this.identity.identity.publicKey) } : { pub };
  }

  /** Our identity fingerprint (v2), or a note that there is none. */
  identityFingerprint(): string {
    return this.identity
      ? identityFingerprint(this.identity.identity.publicKey)
      : '(none: v1 mode)';
  }
}
