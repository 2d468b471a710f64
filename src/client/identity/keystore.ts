import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scrypt } from '@noble/hashes/scrypt.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  fromBase64,
  generateIdentityKeyPair,
  generateX25519KeyPair,
  type IdentityKeyPair,
  identityFingerprint,
  identityPublicKey,
  nameKey,
  secureRandom,
  toBase64,
  type X25519KeyPair,
  x25519PublicKey,
} from '../../protocol/index.js';
import { writePrivateFileAtomic } from '../state/config-dir.js';

/** scrypt cost for key files: N = 2^17, r = 8, p = 1 (128 MiB, about 1 s here). */
export const KEYFILE_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;

/** A user's long-term keys: Ed25519 identity and the signed X25519 key published in hello. */
export interface LocalIdentity {
  name: string;
  identity: IdentityKeyPair;
  x25519: X25519KeyPair;
  createdAt: number;
  /** Path of the key file it was loaded from. */
  path: string;
  encrypted: boolean;
}

interface KeyFileSecrets {
  identity: string;
  x25519: string;
}

interface KeyFile {
  format: 'securechat-identity';
  version: 1;
  name: string;
  identityPublic: string;
  x25519Public: string;
  createdAt: number;
  protection: 'none' | 'scrypt-aes256gcm';
  secrets?: KeyFileSecrets;
  kdf?: { N: number; r: number; p: number; salt: string };
  nonce?: string;
  cipher?: string;
}

export class KeystoreError extends Error {
  readonly code: 'E_KEY_PASSPHRASE' | 'E_KEY_FILE' | 'E_KEY_EXISTS' | 'E_KEY_MISSING';
  constructor(code: KeystoreError['code'], message: string) {
    super(message);
    this.name = 'KeystoreError';
    this.code = code;
  }
}

export function identityPath(configDir: string, name: string): string {
  return join(configDir, 'identities', `${nameKey(name)}.json`);
}

const encoder = new TextEncoder();

/** The public header of a key file is authenticated as AEAD associated data. */
function headerAad(file: KeyFile): Uint8Array {
  return encoder.encode(
    JSON.stringify([
      file.format,
      file.version,
      file.name,
      file.identityPublic,
      file.x25519Public,
      file.createdAt,
    ]),
  );
}

function deriveFileKey(
  passphrase: string,
  salt: Uint8Array,
  kdf: { N: number; r: number; p: number },
): Uint8Array {
  return scrypt(passphrase.normalize('NFKC'), salt, { ...kdf, dkLen: 32, maxmem: 2 ** 30 });
}

function serialize(
  identity: Omit<LocalIdentity, 'path' | 'encrypted'>,
  passphrase: string | undefined,
  kdf = KEYFILE_SCRYPT,
): KeyFile {
  const file: KeyFile = {
    format: 'securechat-identity',
    version: 1,
    name: identity.name,
    identityPublic: toBase64(identity.identity.publicKey),
    x25519Public: toBase64(identity.x25519.publicKey),
    createdAt: identity.createdAt,
    protection: passphrase ? 'scrypt-aes256gcm' : 'none',
  };
  const secrets: KeyFileSecrets = {
    identity: toBase64(identity.identity.secretKey),
    x25519: toBase64(identity.x25519.secretKey),
  };
  if (!passphrase) {
    file.secrets = secrets;
    return file;
  }
  const salt = secureRandom(16);
  const nonce = secureRandom(12);
  file.kdf = { ...kdf, salt: toBase64(salt) };
  const key = deriveFileKey(passphrase, salt, kdf);
  file.nonce = toBase64(nonce);
  file.cipher = toBase64(
    aesGcmSeal(key, nonce, encoder.encode(JSON.stringify(secrets)), headerAad(file)),
  );
  key.fill(0);
  return file;
}

function parseKeyFile(text: string, path: string): KeyFile {
  let file: KeyFile;
  try {
    file = JSON.parse(text) as KeyFile;
  } catch {
    throw new KeystoreError(
      'E_KEY_FILE',
      `${path} is not a securechat identity file (invalid JSON)`,
    );
  }
  if (
    file?.format !== 'securechat-identity' ||
    file.version !== 1 ||
    typeof file.name !== 'string'
  ) {
    throw new KeystoreError('E_KEY_FILE', `${path} is not a securechat identity file (version 1)`);
  }
  return file;
}

function decodeSecrets(
  file: KeyFile,
  passphrase: string | undefined,
  path: string,
): KeyFileSecrets {
  if (file.protection === 'none') {
    if (!file.secrets) throw new KeystoreError('E_KEY_FILE', `${path} has no key material`);
    return file.secrets;
  }
  if (file.protection !== 'scrypt-aes256gcm' || !file.kdf || !file.nonce || !file.cipher) {
    throw new KeystoreError('E_KEY_FILE', `${path} uses an unknown protection scheme`);
  }
  if (!passphrase) {
    throw new KeystoreError('E_KEY_PASSPHRASE', `${path} is encrypted: a passphrase is required`);
  }
  const { N, r, p } = file.kdf;
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 22 || r * p > 64) {
    throw new KeystoreError('E_KEY_FILE', `${path} has implausible scrypt parameters`);
  }
  const key = deriveFileKey(passphrase, fromBase64(file.kdf.salt, 'salt'), { N, r, p });
  try {
    const plain = aesGcmOpen(
      key,
      fromBase64(file.nonce, 'nonce', 12),
      fromBase64(file.cipher, 'cipher'),
      headerAad(file),
    );
    return JSON.parse(new TextDecoder().decode(plain)) as KeyFileSecrets;
  } catch {
    throw new KeystoreError('E_KEY_PASSPHRASE', 'wrong passphrase (or the key file was modified)');
  } finally {
    key.fill(0);
  }
}

/** Loads and checks a key file (secrets must match the published public keys). */
export function loadIdentityFile(path: string, passphrase: string | undefined): LocalIdentity {
  if (!existsSync(path)) throw new KeystoreError('E_KEY_MISSING', `no identity at ${path}`);
  const file = parseKeyFile(readFileSync(path, 'utf8'), path);
  const secrets = decodeSecrets(file, passphrase, path);
  let identitySecret: Uint8Array;
  let x25519Secret: Uint8Array;
  try {
    identitySecret = fromBase64(secrets.identity, 'identity secret', 32);
    x25519Secret = fromBase64(secrets.x25519, 'x25519 secret', 32);
  } catch {
    throw new KeystoreError('E_KEY_FILE', `${path} holds malformed key material`);
  }
  const identity = { secretKey: identitySecret, publicKey: identityPublicKey(identitySecret) };
  const x25519 = { secretKey: x25519Secret, publicKey: x25519PublicKey(x25519Secret) };
  if (
    toBase64(identity.publicKey) !== file.identityPublic ||
    toBase64(x25519.publicKey) !== file.x25519Public
  ) {
    throw new KeystoreError(
      'E_KEY_FILE',
      `${path} is inconsistent: its secret keys do not match its public keys`,
    );
  }
  return {
    name: file.name,
    identity,
    x25519,
    createdAt: file.createdAt,
    path,
    encrypted: file.protection !== 'none',
  };
}

/** Writes an identity (encrypted when a passphrase is given) with mode 0600, atomically. */
export function saveIdentity(
  identity: LocalIdentity,
  passphrase: string | undefined,
  kdf = KEYFILE_SCRYPT,
): void {
  writePrivateFileAtomic(
    identity.path,
    `${JSON.stringify(serialize(identity, passphrase, kdf), null, 2)}\n`,
  );
}

/** Creates a new identity for `name` (never overwrites an existing file). */
export function createIdentity(
  configDir: string,
  name: string,
  passphrase: string | undefined,
  kdf = KEYFILE_SCRYPT,
): LocalIdentity {
  const path = identityPath(configDir, name);
  if (existsSync(path))
    throw new KeystoreError('E_KEY_EXISTS', `an identity for ${name} already exists at ${path}`);
  const identity: LocalIdentity = {
    name,
    identity: generateIdentityKeyPair(),
    x25519: generateX25519KeyPair(),
    createdAt: Date.now(),
    path,
    encrypted: passphrase !== undefined && passphrase !== '',
  };
  saveIdentity(identity, passphrase || undefined, kdf);
  return identity;
}

/** Whether the identity file for `name` exists and is passphrase-protected. */
export function identityFileStatus(
  configDir: string,
  name: string,
): 'missing' | 'plain' | 'encrypted' {
  const path = identityPath(configDir, name);
  if (!existsSync(path)) return 'missing';
  const file = parseKeyFile(readFileSync(path, 'utf8'), path);
  return file.protection === 'none' ? 'plain' : 'encrypted';
}

/** Checks a backup file and returns the identity it holds (the passphrase proves integrity). */
export function readBackup(path: string, passphrase: string | undefined): LocalIdentity {
  return loadIdentityFile(path, passphrase);
}

export function fingerprintOf(identity: LocalIdentity): string {
  return identityFingerprint(identity.identity.publicKey);
}

/** What a key file says in clear: enough to show the fingerprint without the passphrase. */
export interface IdentityHeader {
  name: string;
  fingerprint: string;
  createdAt: number;
  encrypted: boolean;
  path: string;
}

/**
 * Reads a key file's public header (identity public key in clear, authenticated as the
 * AEAD's associated data when the secrets are opened). No passphrase needed.
 */
export function readIdentityHeader(path: string): IdentityHeader {
  const file = parseKeyFile(readFileSync(path, 'utf8'), path);
  let publicKey: Uint8Array;
  try {
    publicKey = fromBase64(file.identityPublic, 'identity public key', 32);
  } catch {
    throw new KeystoreError('E_KEY_FILE', `${path} holds a malformed public key`);
  }
  return {
    name: file.name,
    fingerprint: identityFingerprint(publicKey),
    createdAt: file.createdAt,
    encrypted: file.protection !== 'none',
    path,
  };
}

/** Every identity in a config directory, by file name. Unreadable files are skipped. */
export function listIdentities(configDir: string): IdentityHeader[] {
  const dir = join(configDir, 'identities');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      try {
        return [readIdentityHeader(join(dir, file))];
      } catch {
        return [];
      }
    });
}
