import { isValidName } from '../../protocol/index.js';

/**
 * Invites: one copyable string that carries what first contact needs and the server
 * cannot forge: where the server is, its certificate pin, and the inviter's name and
 * identity fingerprint. `securechat://bob@host:port/?pin=<64 hex>&id=<32 hex>`.
 */
export interface Invite {
  host: string;
  port: number;
  /** `sha256:<64 hex>`. */
  pin: string;
  name: string;
  /** Identity fingerprint as /fp shows it: `xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx`. */
  fingerprint: string;
}

const SCHEME = 'securechat:';

export class InviteError extends Error {
  readonly code = 'E_INVITE_INVALID';
}

/** Whether a command-line argument is meant as an invite. */
export function looksLikeInvite(text: string | undefined): text is string {
  return text?.toLowerCase().startsWith(`${SCHEME}//`) === true;
}

/**
 * Reads an identity fingerprint as users copy it: 32 hex digits, with or without dashes,
 * any case. Returns the /fp form, or undefined.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().toLowerCase().replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}-${hex.slice(24)}`;
}

export function formatInvite(invite: Invite): string {
  const host = invite.host.includes(':') ? `[${invite.host}]` : invite.host;
  const pin = invite.pin.replace(/^sha256:/, '');
  const id = invite.fingerprint.replaceAll('-', '');
  return `${SCHEME}//${invite.name}@${host}:${invite.port}/?pin=${pin}&id=${id}`;
}

/** @throws InviteError with what is wrong. */
export function parseInvite(text: string): Invite {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new InviteError('the invite is not a securechat:// address');
  }
  if (url.protocol !== SCHEME) throw new InviteError('the invite is not a securechat:// address');
  const name = decodeURIComponent(url.username);
  if (!isValidName(name)) throw new InviteError('the invite names no valid user');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InviteError('the invite has no valid host and port');
  const pin = url.searchParams.get('pin')?.toLowerCase() ?? '';
  if (!/^[0-9a-f]{64}$/.test(pin)) throw new InviteError('the invite has no valid server pin');
  const fingerprint = normalizeFingerprint(url.searchParams.get('id') ?? '');
  if (!fingerprint) throw new InviteError('the invite has no valid identity fingerprint');
  return { host, port, pin: `sha256:${pin}`, name, fingerprint };
}

/** `--peer alice=<fingerprint>`. @throws InviteError. */
export function parsePeerOption(text: string): { name: string; fingerprint: string } {
  const at = text.indexOf('=');
  const name = text.slice(0, Math.max(at, 0));
  const fingerprint = normalizeFingerprint(text.slice(at + 1));
  if (at < 0 || !isValidName(name) || !fingerprint) {
    throw new InviteError(
      `invalid --peer "${text.slice(0, 80)}": expected name=<identity fingerprint, 32 hex digits>`,
    );
  }
  return { name, fingerprint };
}
