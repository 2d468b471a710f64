import { loadOrCreateIdentity } from '../client/identity/identity-setup.js';
import { fingerprintOf } from '../client/identity/keystore.js';
import { formatInvite } from '../client/net/invite.js';
import { KnownServers } from '../client/net/known-servers.js';
import { formatPin, parsePin, pinFromCertificateFile } from '../client/net/pinning.js';
import { ensurePrivateDir, resolveConfigDir } from '../client/state/config-dir.js';
import { isInteractive, terminalPrompter } from '../client/ui/prompts.js';
import { commandName } from '../command-name.js';
import { CliError, ExitCode } from '../errors.js';
import { isValidName } from '../protocol/index.js';

export interface InviteFlags {
  pin?: string;
  cert?: string;
  home?: string;
}

/** `securechat invite`: prints the invite for user at host:port. */
export function runInvite(user: string, host: string, port: string, flags: InviteFlags): void {
  if (!isValidName(user))
    throw new CliError(`invalid user name "${String(user).slice(0, 40)}"`, {
      exitCode: ExitCode.usage,
    });
  const portNumber = Number(port);
  if (!/^\d{1,5}$/.test(port) || portNumber < 1 || portNumber > 65535)
    throw new CliError(`invalid port "${port.slice(0, 20)}"`, { exitCode: ExitCode.usage });
  const configDir = resolveConfigDir(flags.home);
  ensurePrivateDir(configDir);
  const remembered = new KnownServers(configDir).get(`${host}:${port}`);
  const pin = flags.cert
    ? pinFromCertificateFile(flags.cert)
    : flags.pin
      ? parsePin(flags.pin)
      : remembered
        ? parsePin(remembered)
        : undefined;
  if (!pin) {
    throw new CliError(`no pin known for ${host}:${port}`, {
      exitCode: ExitCode.usage,
      hint: 'give --pin sha256:… (printed when the server starts) or --cert, or connect once first',
    });
  }
  const identity = loadOrCreateIdentity({
    configDir,
    name: user,
    ...(process.env.SECURECHAT_PASSPHRASE !== undefined
      ? { passphrase: process.env.SECURECHAT_PASSPHRASE }
      : {}),
    ...(isInteractive() ? { prompter: terminalPrompter } : {}),
    notify: (text) => process.stderr.write(`${text}\n`),
  });
  const invite = formatInvite({
    host,
    port: portNumber,
    pin: formatPin(pin.sha256),
    name: identity.name,
    fingerprint: fingerprintOf(identity),
  });
  process.stderr.write(
    'Give this invite to your friend over a channel you trust (in person, a call, a message\n' +
      `you know is from you). They run: ${commandName()} connect <their name> <invite>\n`,
  );
  process.stdout.write(`${invite}\n`);
}
