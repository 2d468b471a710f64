import type { Command } from 'commander';
import type { KeysFlags } from './keys-run.js';
import { addOptions } from './options.js';

/** `securechat keys <user>`: show, export, import or re-protect an identity key. */
export function addKeysCommand(program: Command): void {
  const command = program
    .command('keys')
    .description(
      'show your identity key fingerprint; export or import a backup; change its passphrase',
    )
    .argument('[user]', 'whose identity (one key file per local user name); none: list them');
  addOptions(command, [
    { flags: '--home <dir>', help: 'config directory', env: 'SECURECHAT_HOME' },
    {
      flags: '--export <file>',
      help: 'write a backup (encrypted; asks for a passphrase if the key has none)',
    },
    { flags: '--import <file>', help: 'install a backup as this user’s identity' },
    { flags: '--passwd', help: 'set, change or remove the key’s passphrase (empty = none)' },
    { flags: '--force', help: 'with --import: replace an existing, different identity' },
    { flags: '--plaintext', help: 'with --export: allow an unencrypted backup' },
  ]).action(async (user: string | undefined, flags: KeysFlags) => {
    const { runKeys } = await import('./keys-run.js');
    runKeys(user, flags);
  });
}
