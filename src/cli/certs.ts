import { type Command, Option } from 'commander';
import { defaultServerConfig } from '../server/config.js';

export function addCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('generate a self-signed ECDSA P-256 certificate and key for `serve`')
    .addOption(
      new Option('--cert <file>', 'certificate path')
        .env('SECURECHAT_CERT')
        .default(defaultServerConfig.certPath),
    )
    .addOption(
      new Option('--key <file>', 'private key path (written with mode 0600)')
        .env('SECURECHAT_KEY')
        .default(defaultServerConfig.keyPath),
    )
    .option(
      '--force',
      'replace existing files (clients that pinned the old certificate will refuse the new one)',
    )
    .option('--name <cn>', 'certificate common name', 'securechat')
    .action(async (flags: { cert: string; key: string; force?: boolean; name: string }) => {
      const { certificatePin, writeCertificateFiles } = await import('../server/certs.js');
      const generated = await writeCertificateFiles(
        { certPath: flags.cert, keyPath: flags.key },
        { force: flags.force ?? false, commonName: flags.name },
      );
      process.stdout.write(
        `wrote ${flags.cert} and ${flags.key} (mode 0600)\nfingerprint ${certificatePin(generated.certPem)}\n`,
      );
    });
}
