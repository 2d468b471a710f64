import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * @peculiar/x509 (and the Reflect metadata polyfill its 2.x needs), loaded only to generate
 * a certificate: a server that has its pair never loads it (≈ 2.6 MB of heap that every full
 * collection would walk, and its load time at every start).
 */
async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

/** Validity of generated certificates: long, because clients pin them, not a CA. */
const VALIDITY_DAYS = 3650;

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Generates a self-signed ECDSA P-256 certificate (SHA-256 signature) with the extensions
 * `openssl req -x509` would add, so strict TLS stacks (Python 3.13's VERIFY_X509_STRICT,
 * OpenSSL 3) accept it as its own trust anchor when a client pins the file.
 */
export async function generateSelfSignedCertificate(
  commonName = 'securechat',
): Promise<GeneratedCertificate> {
  const x509 = await loadX509();
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + VALIDITY_DAYS * 86_400_000);
  const serial = webcrypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString('hex'),
    name: `CN=${commonName}`,
    notBefore,
    notAfter,
    signingAlgorithm: algorithm,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8 as ArrayBuffer, 'PRIVATE KEY');
  return { certPem: cert.toString('pem'), keyPem };
}

/** `sha256:<64 lowercase hex>` of a PEM certificate's DER bytes (the client pin). */
export function certificatePin(certPem: string): string {
  const der = new X509Certificate(certPem).raw;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export interface CertificateFiles {
  certPath: string;
  keyPath: string;
}

export class CertificateExistsError extends Error {
  readonly code = 'E_CERT_EXISTS';
}

/**
 * Writes a fresh certificate and key. The key file is created with mode 0600 (written
 * to a temporary name first, then renamed, so a crash never leaves a half-written key).
 * @throws CertificateExistsError when either file exists and `force` is not set.
 */
export async function writeCertificateFiles(
  files: CertificateFiles,
  options: { force?: boolean; commonName?: string } = {},
): Promise<GeneratedCertificate> {
  if (!options.force && (existsSync(files.certPath) || existsSync(files.keyPath))) {
    throw new CertificateExistsError(
      `refusing to overwrite ${existsSync(files.certPath) ? files.certPath : files.keyPath}`,
    );
  }
  const generated = await generateSelfSignedCertificate(options.commonName);
  await mkdir(dirname(files.keyPath), { recursive: true, mode: 0o700 });
  await mkdir(dirname(files.certPath), { recursive: true });
  const keyTmp = `${files.keyPath}.tmp-${process.pid}`;
  await writeFile(keyTmp, generated.keyPem, { mode: 0o600 });
  await chmod(keyTmp, 0o600);
  await rename(keyTmp, files.keyPath);
  const certTmp = `${files.certPath}.tmp-${process.pid}`;
  await writeFile(certTmp, generated.certPem, { mode: 0o644 });
  await rename(certTmp, files.certPath);
  return generated;
}

/**
 * Loads the certificate and key, generating both when both are missing. One present
 * without the other is an error (never silently replace half of a pair).
 */
export async function loadOrCreateCertificate(
  files: CertificateFiles,
): Promise<GeneratedCertificate & { generated: boolean }> {
  const haveCert = existsSync(files.certPath);
  const haveKey = existsSync(files.keyPath);
  if (!haveCert && !haveKey) {
    return { ...(await writeCertificateFiles(files)), generated: true };
  }
  if (!haveCert || !haveKey) {
    throw new Error(
      `found ${haveCert ? files.certPath : files.keyPath} but not ${haveCert ? files.keyPath : files.certPath}; ` +
        'restore the missing file or run `securechat certs --force` to make a new pair',
    );
  }
  const [certPem, keyPem] = await Promise.all([
    readFile(files.certPath, 'utf8'),
    readFile(files.keyPath, 'utf8'),
  ]);
  return { certPem, keyPem, generated: false };
}
