import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KnownServers } from '../net/known-servers.js';
import { certificateDigest, formatPin, parsePin } from '../net/pinning.js';
import { probeCertificate } from '../net/server-trust.js';
import { TrustStore } from './trust-store.js';

export interface RotationRequest {
  configDir: string;
  host: string;
  port: number;
  /** The new pin, as the server owner gave it (`--pin`, or from `--cert`). */
  expected?: string;
  /** Asked with both fingerprints when no pin was given; undefined without a terminal. */
  confirm?: (question: string) => boolean;
  probe?: (host: string, port: number) => Promise<Uint8Array>;
}

export type RotationResult =
  | { outcome: 'unchanged'; pin: string }
  | {
      outcome: 'accepted';
      previous: string | undefined;
      pin: string;
      /** Known peers carried to the new pin, per local user. */
      carried: Array<{ user: string; peers: number }>;
    }
  | { outcome: 'refused'; previous: string | undefined; presented: string; reason: string };

/**
 * Accepting a rotated server certificate, explicitly: reads what the server presents now,
 * compares it with the pin the owner gave (or asks, showing both fingerprints), then
 * remembers it for host:port and carries every local user's known peers and floors from
 * the old pin to the new one (names keep their keys, verifications and floors instead of
 * silently starting over as strangers).
 */
export async function acceptRotation(request: RotationRequest): Promise<RotationResult> {
  const address = `${request.host}:${request.port}`;
  const servers = new KnownServers(request.configDir);
  const remembered = servers.get(address);
  const previous = remembered === undefined ? undefined : formatPin(parsePin(remembered).sha256);
  const der = await (request.probe ?? probeCertificate)(request.host, request.port);
  const presented = formatPin(certificateDigest(der));
  if (presented === previous) return { outcome: 'unchanged', pin: presented };
  const refused = (reason: string): RotationResult => ({
    outcome: 'refused',
    previous,
    presented,
    reason,
  });
  if (request.expected !== undefined) {
    if (formatPin(parsePin(request.expected).sha256) !== presented)
      return refused('the server presents another certificate than the pin you gave');
  } else if (
    !request.confirm?.(
      `The server ${address} presents a new certificate.\n  remembered: ${previous ?? '(none)'}\n` +
        `  presented:  ${presented}\nDid its owner confirm the new fingerprint out of band? [y/N] `,
    )
  ) {
    return refused(
      request.confirm ? 'not accepted' : 'give the new pin with --pin (no terminal to ask on)',
    );
  }
  servers.rotate(address, presented);
  const carried: Array<{ user: string; peers: number }> = [];
  const dir = join(request.configDir, 'known-peers');
  if (previous !== undefined && existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const user = file.slice(0, -'.json'.length);
      carried.push({
        user,
        peers: new TrustStore(request.configDir, user).carryOver(previous, presented),
      });
    }
  }
  return { outcome: 'accepted', previous, pin: presented, carried };
}
