import type { Command } from 'commander';
import { addOptions } from './options.js';
import type { WhoFlags } from './who-run.js';

/** `securechat who`: who is connected, from the admin listener (`serve --metrics`). */
export function addWhoCommand(program: Command): void {
  const command = program
    .command('who')
    .description(
      'list connected users: address, client, connected since (needs `serve --metrics`)',
    );
  addOptions(command, [
    {
      flags: '--admin <url>',
      help: 'the admin listener (loopback, or give --token)',
      env: 'SECURECHAT_ADMIN_URL',
      default: 'http://127.0.0.1:9464',
    },
    {
      flags: '--token <token>',
      help: 'admin token for a non-loopback listener',
      env: 'SECURECHAT_ADMIN_TOKEN',
    },
    { flags: '--json', help: 'the JSON answer as it is' },
  ]).action(async (flags: WhoFlags) => {
    const { runWho } = await import('./who-run.js');
    await runWho(flags);
  });
}
