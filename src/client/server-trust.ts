import { existsSync } from 'node:fs';
import { connect } from 'node:tls';
import type { KnownServers } from './known-servers.js';
import {
  certificateDigest,
  formatPin,
  PinError,
  parsePin,
  pinFromCertificateFile,
  type ServerPin,
} from './pinning.js';

export interface PinSources {
  host: string;
  port: number;
  certFile?: string;
  pin?: string;
  /** Seed-style default: used when present and nothing else was given. */
  defaultCertFile?: string;
  knownServers?: KnownServers;
  /** Accept an unknown server's certificate without asking (non-interactive TOFU). */
  acceptNew?: boolean;
  /** Asks the user (y/n); undefined when there is no terminal to ask on. */
  confirm?: (question: string) => boolean;
  /** Fetches the certificate the server presents (injectable for tests). */
  probe?: (host: string, port: number) => Promise<Uint8Array>;
}

/** Connects, reads the server's certificate, and disconnects without sending a byte. */
export function probeCertificate(
  host: string,
  port: number,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS answer from ${host}:${port} in time`)),
    );
    socket.once('secureConnect', () => {
      const der = socket.getPeerCertificate().raw;
      socket.destroy();
      if (der) resolve(der);
      else reject(new Error('the server presented no certificate'));
    });
    socket.once('error', reject);
  });
}

/**
 * Decides how to authenticate the server, in this order: `--cert`, `--pin`, the default
 * certificate file, the known-servers entry for host:port, and finally trust on first use
 * (asked on a terminal, or `--accept-new`). A known server presenting another certificate
 * is refused later by the connection with both fingerprints shown.
 */
export async function resolveServerPin(sources: PinSources): Promise<ServerPin> {
  if (sources.certFile) return pinFromCertificateFile(sources.certFile);
  if (sources.pin) return parsePin(sources.pin);
  if (sources.defaultCertFile && existsSync(sources.defaultCertFile)) {
    return pinFromCertificateFile(sources.defaultCertFile);
  }
  const address = `${sources.host}:${sources.port}`;
  const known = sources.knownServers?.get(address);
  if (known) return { ...parsePin(known), source: `known-servers entry for ${address}` };

  const der = await (sources.probe ?? probeCertificate)(sources.host, sources.port);
  const pin = formatPin(certificateDigest(der));
  let accepted = sources.acceptNew === true;
  if (!accepted && sources.confirm) {
    accepted = sources.confirm(
      `The server ${address} is not known yet. It presents the certificate\n  ${pin}\n` +
        'Compare it with the fingerprint the server owner gave you. Trust it and remember it? [y/N] ',
    );
  }
  if (!accepted) {
    throw new PinError(
      'E_PIN_MISSING',
      `the server ${address} is unknown (it presents ${pin}) and was not accepted`,
    );
  }
  sources.knownServers?.remember(address, pin);
  return { ...parsePin(pin), source: `known-servers entry for ${address} (accepted now)` };
}
