import { connect } from 'node:tls';
import { commandName } from '../../command-name.js';
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
  /** The server pin of an invite: used like `--pin`, and remembered for this address. */
  invitePin?: string;
  knownServers?: KnownServers;
  /** Told when an explicit pin differs from the one remembered for the address. */
  warn?: (text: string) => void;
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
 * Decides how to authenticate the server, in this order: `--cert`, `--pin`, an invite's
 * pin, the known-servers entry for host:port, and finally trust on first use (asked on a
 * terminal, or `--accept-new`). Nothing else: a certificate file that happens to be in the
 * working directory is never used. A known server presenting another certificate is
 * refused later by the connection with both fingerprints shown; accepting a rotation is
 * `securechat server-cert` (known peers and floors carried over).
 */
export async function resolveServerPin(sources: PinSources): Promise<ServerPin> {
  const address = `${sources.host}:${sources.port}`;
  const remembered = sources.knownServers?.get(address);
  const known = remembered === undefined ? undefined : formatPin(parsePin(remembered).sha256);
  const explicit = sources.certFile
    ? pinFromCertificateFile(sources.certFile)
    : sources.pin
      ? parsePin(sources.pin)
      : sources.invitePin
        ? { ...parsePin(sources.invitePin), source: 'the invite' }
        : undefined;
  if (explicit) {
    const pin = formatPin(explicit.sha256);
    if (known === undefined && sources.invitePin !== undefined)
      sources.knownServers?.remember(address, pin);
    if (known !== undefined && known !== pin) {
      sources.warn?.(
        `${address} is remembered with another certificate (${known}) than the one given (${pin}). ` +
          'Your known peers and their floors stay with the remembered one. If the server owner ' +
          `rotated the certificate, accept it with: ${commandName()} server-cert ${sources.host} ${sources.port} --pin ${pin}`,
      );
    }
    return explicit;
  }
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
