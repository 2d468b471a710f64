import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** How the client authenticates the server: never by hostname (ngrok names never match). */
export type ServerPin =
  /** Trust exactly this certificate (seed style `--cert server.crt`). */
  | { kind: 'certificate'; certPem: string; sha256: Buffer; source: string }
  /** Trust a certificate whose DER SHA-256 is this (`--pin sha256:…`). */
  | { kind: 'fingerprint'; sha256: Buffer; source: string };

export class PinError extends Error {
  readonly code: 'E_PIN_MISMATCH' | 'E_PIN_INVALID' | 'E_PIN_MISSING';
  readonly expected?: string;
  readonly presented?: string;
  constructor(
    code: PinError['code'],
    message: string,
    detail: { expected?: string; presented?: string } = {},
  ) {
    super(message);
    this.name = 'PinError';
    this.code = code;
    if (detail.expected !== undefined) this.expected = detail.expected;
    if (detail.presented !== undefined) this.presented = detail.presented;
  }
}

/** Formats a SHA-256 digest the way the server prints it: `sha256:<64 lowercase hex>`. */
export function formatPin(sha256: Uint8Array): string {
  return `sha256:${Buffer.from(sha256).toString('hex')}`;
}

/**
 * Parses `sha256:<hex>`; also accepts colon-separated hex as `openssl x509 -fingerprint
 * -sha256` prints it, in either case, with or without the `sha256:` prefix.
 * @throws PinError `E_PIN_INVALID`.
 */
export function parsePin(text: string): ServerPin {
  const trimmed = text.trim();
  const body = trimmed.toLowerCase().startsWith('sha256:') ? trimmed.slice(7) : trimmed;
  const hex = body.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new PinError(
      'E_PIN_INVALID',
      `invalid pin "${text.slice(0, 80)}": expected sha256: followed by 64 hex digits`,
    );
  }
  return { kind: 'fingerprint', sha256: Buffer.from(hex, 'hex'), source: '--pin' };
}

/** Reads a PEM certificate file to pin. @throws PinError `E_PIN_INVALID`. */
export function pinFromCertificateFile(path: string): ServerPin {
  let certPem: string;
  let der: Buffer;
  try {
    certPem = readFileSync(path, 'utf8');
    der = new X509Certificate(certPem).raw;
  } catch (cause) {
    throw new PinError(
      'E_PIN_INVALID',
      `cannot read certificate ${path}: ${(cause as Error).message}`,
    );
  }
  return {
    kind: 'certificate',
    certPem,
    sha256: createHash('sha256').update(der).digest(),
    source: path,
  };
}

/** SHA-256 of a DER certificate. */
export function certificateDigest(der: Uint8Array): Buffer {
  return createHash('sha256').update(der).digest();
}

/** Constant-time comparison of a presented certificate with the pin. */
export function pinMatches(pin: ServerPin, presentedDer: Uint8Array): boolean {
  const presented = certificateDigest(presentedDer);
  return presented.length === pin.sha256.length && timingSafeEqual(presented, pin.sha256);
}

/** The error shown when the server presents another certificate than the pinned one. */
export function pinMismatch(pin: ServerPin, presentedDer: Uint8Array): PinError {
  const expected = formatPin(pin.sha256);
  const presented = formatPin(certificateDigest(presentedDer));
  return new PinError(
    'E_PIN_MISMATCH',
    `server certificate does not match the pin (${pin.source}).\n  expected:  ${expected}\n  presented: ${presented}\n` +
      'This is either a different server or someone in the middle. Do not continue unless the ' +
      'server owner confirms the new fingerprint out of band.',
    { expected, presented },
  );
}
