import { CliError, ExitCode } from '../../errors.js';
import {
  createIdentity,
  identityFileStatus,
  identityPath,
  KeystoreError,
  type LocalIdentity,
  loadIdentityFile,
} from './keystore.js';

/** Asks for a passphrase without echoing it (ui/prompts.ts on a terminal). */
export interface PassphrasePrompter {
  secret(question: string): string;
}

export interface IdentitySetup {
  configDir: string;
  name: string;
  /** From SECURECHAT_PASSPHRASE (scripts); asked on a terminal otherwise. */
  passphrase?: string;
  prompter?: PassphrasePrompter;
  /** Report a line to the user (creation notice). */
  notify(text: string): void;
}

const MAX_ATTEMPTS = 3;

/** Loads the user's identity, creating it on first use (optionally passphrase-protected). */
export function loadOrCreateIdentity(setup: IdentitySetup): LocalIdentity {
  const status = identityFileStatus(setup.configDir, setup.name);
  const path = identityPath(setup.configDir, setup.name);
  if (status === 'missing') {
    let passphrase = setup.passphrase;
    if (passphrase === undefined && setup.prompter) {
      setup.notify(`Creating a new identity key for ${setup.name} in ${path}.`);
      passphrase = askNewPassphrase(setup.prompter);
    }
    const identity = createIdentity(setup.configDir, setup.name, passphrase || undefined);
    setup.notify(
      `New identity for ${setup.name} created${identity.encrypted ? ' (passphrase-protected)' : ' (not passphrase-protected)'}: ${path}`,
    );
    return identity;
  }
  if (status === 'plain') return loadIdentityFile(path, undefined);
  if (setup.passphrase !== undefined)
    return wrapPassphraseError(() => loadIdentityFile(path, setup.passphrase));
  if (!setup.prompter) {
    throw new CliError(`the identity key ${path} is passphrase-protected`, {
      exitCode: ExitCode.usage,
      hint: 'set SECURECHAT_PASSPHRASE, or run on a terminal to be asked',
    });
  }
  for (let attempt = 1; ; attempt++) {
    const passphrase = setup.prompter.secret(`Passphrase for ${setup.name}'s identity key: `);
    try {
      return loadIdentityFile(path, passphrase);
    } catch (error) {
      if (
        !(error instanceof KeystoreError) ||
        error.code !== 'E_KEY_PASSPHRASE' ||
        attempt >= MAX_ATTEMPTS
      ) {
        return wrapPassphraseError(() => {
          throw error;
        });
      }
      setup.notify('Wrong passphrase, try again.');
    }
  }
}

function askNewPassphrase(prompter: PassphrasePrompter): string {
  for (;;) {
    const first = prompter.secret('Passphrase to protect it (empty for none): ');
    if (first === '') return '';
    const second = prompter.secret('Repeat the passphrase: ');
    if (first === second) return first;
    process.stderr.write('The two passphrases differ; try again.\n');
  }
}

function wrapPassphraseError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof KeystoreError && error.code === 'E_KEY_PASSPHRASE') {
      throw new CliError(error.message, {
        exitCode: ExitCode.usage,
        hint: 'nothing was changed; check the passphrase (SECURECHAT_PASSPHRASE for scripts)',
      });
    }
    throw error;
  }
}
