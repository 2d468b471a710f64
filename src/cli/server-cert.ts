import type { Command } from 'commander';
import { addOptions } from './options.js';
import type { ServerCertFlags } from './server-cert-run.js';

/**
 * `securechat server-cert <host> <port> --pin <new>`: the explicit step that accepts a
 * server's new certificate (after `securechat certs --force`), keeping known peers and
 * their floors instead of meeting everyone as a stranger again.
 */
export function addServerCertCommand(program: Command): void {
  const command = program
    .command('server-cert')
    .description(
      "accept a server's new certificate (shows both fingerprints; keeps your known peers)",
    )
    .argument('<host>', 'server host')
    .argument('<port>', 'server port');
  addOptions(command, [
    {
      flags: '--pin <sha256:hex>',
      help: 'the new pin, as the server owner gave it to you (else asked on a terminal)',
    },
    { flags: '--cert <file>', help: 'the new certificate (PEM) to take the pin from' },
    { flags: '--home <dir>', help: 'config directory', env: 'SECURECHAT_HOME' },
  ]).action(async (host: string, port: string, flags: ServerCertFlags) => {
    const { runServerCert } = await import('./server-cert-run.js');
    await runServerCert(host, port, flags);
  });
}
