import { formatPin, pinFromCertificateFile } from '../client/net/pinning.js';
import { ensurePrivateDir, resolveConfigDir } from '../client/state/config-dir.js';
import { acceptRotation } from '../client/trust/server-rotation.js';
import { isInteractive, terminalPrompter } from '../client/ui/prompts.js';
import { CliError, ExitCode } from '../errors.js';

export interface ServerCertFlags {
  pin?: string;
  cert?: string;
  home?: string;
}

/** `securechat server-cert`: accepts (or refuses) the server's new certificate. */
export async function runServerCert(
  host: string,
  port: string,
  flags: ServerCertFlags,
): Promise<void> {
  const portNumber = Number(port);
  if (!/^\d{1,5}$/.test(port) || portNumber < 1 || portNumber > 65535)
    throw new CliError(`invalid port "${port.slice(0, 20)}"`, { exitCode: ExitCode.usage });
  const configDir = resolveConfigDir(flags.home);
  ensurePrivateDir(configDir);
  const expected = flags.cert ? formatPin(pinFromCertificateFile(flags.cert).sha256) : flags.pin;
  const result = await acceptRotation({
    configDir,
    host,
    port: portNumber,
    ...(expected ? { expected } : {}),
    ...(isInteractive() ? { confirm: (q: string) => terminalPrompter.confirm(q) } : {}),
  });
  const out = (text: string) => process.stdout.write(`${text}\n`);
  out(`server ${host}:${portNumber}`);
  if (result.outcome === 'unchanged') {
    out(`  presents the remembered certificate ${result.pin}: nothing to do`);
    return;
  }
  out(`  remembered: ${result.previous ?? '(none)'}`);
  out(`  presented:  ${result.outcome === 'accepted' ? result.pin : result.presented}`);
  if (result.outcome === 'refused') {
    throw new CliError(`not accepted: ${result.reason}`, {
      exitCode: ExitCode.trust,
      hint: 'ask the server owner for the fingerprint its `securechat serve` prints at start',
    });
  }
  out('accepted the new certificate.');
  for (const { user, peers } of result.carried)
    out(`  ${user}: ${peers} known peer${peers === 1 ? '' : 's'} and their floors carried over`);
}
