import { existsSync, readFileSync } from 'node:fs';
import {
  fingerprintOf,
  identityFileStatus,
  identityPath,
  type LocalIdentity,
  listIdentities,
  loadIdentityFile,
  readIdentityHeader,
  saveIdentity,
} from '../client/identity/keystore.js';
import {
  ensurePrivateDir,
  resolveConfigDir,
  writePrivateFileAtomic,
} from '../client/state/config-dir.js';
import { isInteractive, terminalPrompter } from '../client/ui/prompts.js';
import { formatLocalDateTime } from '../client/ui/render.js';
import { commandName } from '../command-name.js';
import { CliError, ExitCode } from '../errors.js';
import { isValidName, nameKey } from '../protocol/index.js';

/** The flags of `securechat keys` (run by keys-run.ts, loaded when the command runs). */
export interface KeysFlags {
  home?: string;
  export?: string;
  import?: string;
  passwd?: boolean;
  force?: boolean;
  plaintext?: boolean;
}

function passphraseFrom(variable: string, question: string, confirm: boolean): string | undefined {
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined) return fromEnv;
  if (!isInteractive()) return undefined;
  const first = terminalPrompter.secret(question);
  if (confirm && first !== '' && terminalPrompter.secret('Repeat it: ') !== first) {
    throw new CliError('the two passphrases differ; nothing was changed', {
      exitCode: ExitCode.usage,
    });
  }
  return first;
}

function unlock(path: string, encrypted: boolean): LocalIdentity {
  if (!encrypted) return loadIdentityFile(path, undefined);
  const passphrase = passphraseFrom('SECURECHAT_PASSPHRASE', 'Passphrase of the key: ', false);
  if (passphrase === undefined) {
    throw new CliError(`${path} is passphrase-protected`, {
      exitCode: ExitCode.usage,
      hint: 'set SECURECHAT_PASSPHRASE or run on a terminal',
    });
  }
  try {
    return loadIdentityFile(path, passphrase);
  } catch (error) {
    throw new CliError((error as Error).message, {
      exitCode: ExitCode.usage,
      hint: 'nothing was changed',
    });
  }
}

/** `securechat keys <user>`: show, export, import or re-protect an identity key. */
export function runKeys(user: string | undefined, flags: KeysFlags): void {
  if (user === undefined) {
    if (flags.import || flags.export || flags.passwd)
      throw new CliError('name the user whose key this is', { exitCode: ExitCode.usage });
    listKeys(resolveConfigDir(flags.home));
    return;
  }
  if (!isValidName(user))
    throw new CliError(`invalid user name "${String(user).slice(0, 40)}"`, {
      exitCode: ExitCode.usage,
    });
  const configDir = resolveConfigDir(flags.home);
  ensurePrivateDir(configDir);
  const path = identityPath(configDir, user);
  if (flags.import) {
    importKey(flags.import, path, user, flags.force === true);
    return;
  }
  const status = identityFileStatus(configDir, user);
  if (status === 'missing') {
    throw new CliError(`no identity for ${user} in ${configDir}`, {
      exitCode: ExitCode.usage,
      hint: `it is created on the first \`${commandName()} connect ${user} …\`, or restore one with --import`,
    });
  }
  if (flags.export) {
    exportKey(path, flags.export, status === 'encrypted', flags.plaintext === true);
    return;
  }
  if (flags.passwd) {
    changePassphrase(path, status === 'encrypted');
    return;
  }
  // The public header is in clear: showing the fingerprint needs no passphrase.
  const header = readIdentityHeader(path);
  process.stdout.write(
    `identity ${header.fingerprint}  <- the fingerprint to compare (read it to a friend; /fp shows it too)\n` +
      `user     ${header.name}\nfile     ${path} (${header.encrypted ? 'passphrase-protected' : 'NOT passphrase-protected'})\n` +
      `created  ${formatLocalDateTime(new Date(header.createdAt))}\n`,
  );
}

function listKeys(configDir: string): void {
  const identities = listIdentities(configDir);
  if (identities.length === 0) {
    process.stdout.write(
      `no identities in ${configDir}: one is created on your first \`${commandName()} connect <name> …\`\n`,
    );
    return;
  }
  const width = Math.max(...identities.map((i) => i.name.length));
  process.stdout.write(`identities in ${configDir} (the fingerprint is the one to compare):\n`);
  for (const identity of identities) {
    process.stdout.write(
      `  ${identity.name.padEnd(width)}  ${identity.fingerprint}  ${identity.encrypted ? 'passphrase-protected' : 'NOT passphrase-protected'}\n`,
    );
  }
}

function exportKey(path: string, target: string, encrypted: boolean, plaintext: boolean): void {
  if (existsSync(target))
    throw new CliError(`${target} exists; not overwriting`, { exitCode: ExitCode.usage });
  if (encrypted) {
    writePrivateFileAtomic(target, readFileSync(path, 'utf8'));
  } else {
    const identity = loadIdentityFile(path, undefined);
    const passphrase = passphraseFrom(
      'SECURECHAT_EXPORT_PASSPHRASE',
      'Passphrase for the backup: ',
      true,
    );
    if (!passphrase && !plaintext) {
      throw new CliError('refusing to write an unencrypted backup', {
        exitCode: ExitCode.usage,
        hint: 'give a passphrase (SECURECHAT_EXPORT_PASSPHRASE), or pass --plaintext',
      });
    }
    saveIdentity({ ...identity, path: target }, passphrase || undefined);
  }
  process.stdout.write(`backup written to ${target} (mode 0600)\n`);
}

function importKey(source: string, path: string, user: string, force: boolean): void {
  if (!existsSync(source))
    throw new CliError(`${source} does not exist`, { exitCode: ExitCode.usage });
  const text = readFileSync(source, 'utf8');
  const encrypted = (JSON.parse(text) as { protection?: string }).protection !== 'none';
  const backup = unlock(source, encrypted);
  if (nameKey(backup.name) !== nameKey(user)) {
    throw new CliError(`the backup holds ${backup.name}'s identity, not ${user}'s`, {
      exitCode: ExitCode.usage,
    });
  }
  if (existsSync(path) && !force) {
    const current = JSON.parse(readFileSync(path, 'utf8')) as { identityPublic?: string };
    const incoming = JSON.parse(text) as { identityPublic?: string };
    if (current.identityPublic !== incoming.identityPublic) {
      throw new CliError(`${user} already has a different identity at ${path}`, {
        exitCode: ExitCode.usage,
        hint: 'pass --force to replace it (the current key is lost unless backed up)',
      });
    }
  }
  writePrivateFileAtomic(path, text);
  process.stdout.write(`imported ${user}'s identity ${fingerprintOf(backup)} into ${path}\n`);
}

function changePassphrase(path: string, encrypted: boolean): void {
  const identity = unlock(path, encrypted);
  const next = passphraseFrom(
    'SECURECHAT_NEW_PASSPHRASE',
    'New passphrase (empty for none): ',
    true,
  );
  if (next === undefined) {
    throw new CliError('no new passphrase given', {
      exitCode: ExitCode.usage,
      hint: 'set SECURECHAT_NEW_PASSPHRASE or run on a terminal',
    });
  }
  saveIdentity(identity, next || undefined);
  process.stdout.write(
    next ? 'passphrase changed\n' : 'passphrase removed: the key file is now unencrypted\n',
  );
}
