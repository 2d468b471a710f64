import type { Command } from 'commander';
import type { InviteFlags } from './invite-run.js';
import { addOptions } from './options.js';

/**
 * `securechat invite <user> <host> <port>`: prints one copyable string with the server's
 * pin and your identity fingerprint; whoever connects with it pins that server and accepts
 * only your key for your name (first contact the server cannot intercept).
 */
export function addInviteCommand(program: Command): void {
  const command = program
    .command('invite')
    .description(
      'print an invite (server, its pin, your name and identity fingerprint) for `connect <invite>`',
    )
    .argument('<user>', 'your name on that server')
    .argument('<host>', 'the server host as your friend reaches it (e.g. 4.tcp.eu.ngrok.io)')
    .argument('<port>', 'the server port as your friend reaches it');
  addOptions(command, [
    { flags: '--pin <sha256:hex>', help: 'the server certificate pin (else the one remembered)' },
    { flags: '--cert <file>', help: 'the server certificate (PEM) to take the pin from' },
    { flags: '--home <dir>', help: 'config directory', env: 'SECURECHAT_HOME' },
  ]).action(async (user: string, host: string, port: string, flags: InviteFlags) => {
    const { runInvite } = await import('./invite-run.js');
    runInvite(user, host, port, flags);
  });
}
