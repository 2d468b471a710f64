import { type Command, Option } from 'commander';
import { addOptions } from './options.js';

export function addConnectCommand(program: Command): void {
  const command = program
    .command('connect')
    .description(
      'chat: connect to a server, or `connect <user> <invite>` (missing arguments are asked on a terminal)',
    )
    .argument('[user]', 'your name: 1-32 of A-Z a-z 0-9 _ . -')
    .argument('[host]', 'server host (e.g. 0.tcp.ngrok.io), or an invite (securechat://…)')
    .argument('[port]', 'server port');
  command.addOption(
    new Option(
      '--peer <name=fingerprint>',
      'accept only this identity fingerprint for name (from their `securechat keys`); marks them verified, refuses any other key; repeatable',
    ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
  );
  addOptions(command, [
    {
      flags: '--cert <file>',
      help: 'trust exactly this server certificate (PEM); none is ever read implicitly (no ./certs)',
    },
    {
      flags: '--pin <sha256:hex>',
      help: 'trust the server certificate with this SHA-256 fingerprint (else: the invite, then known-servers.json, then ask)',
    },
    {
      flags: '--accept-new',
      help: 'trust an unknown server on first use without asking (scripts)',
    },
    {
      flags: '--web [address]',
      help: 'the browser UI instead of the terminal UI, on 127.0.0.1 (or [::1]:PORT, PORT): prints a one-time link and opens it in the desktop browser',
    },
    {
      flags: '--no-open',
      help: 'with --web: only print the link, do not start a browser',
    },
    { flags: '--json', help: 'print every event as one JSON line; read commands from stdin' },
    {
      flags: '--no-color',
      help: 'no colours (also NO_COLOR, and whenever stdout is not a terminal)',
    },
    {
      flags: '--home <dir>',
      help: 'config directory (keys, known peers and servers, history)',
      env: 'SECURECHAT_HOME',
    },
    {
      flags: '--legacy',
      help: 'speak protocol v1 only, without an identity key (like the seed clients)',
    },
    { flags: '--no-reconnect', help: 'exit instead of reconnecting when the connection drops' },
    { flags: '--no-bell', help: 'no terminal bell for direct messages while typing' },
    { flags: '--save-message-history', help: 'also keep message text in the input history file' },
    {
      flags: '--downloads <dir>',
      help: 'where received files are saved (default: downloads in the config directory)',
      env: 'SECURECHAT_DOWNLOADS',
    },
    {
      flags: '--auto-accept <senders>',
      help: 'accept files from these senders without asking, up to a size each: alice:10m,bob:500k (default 10m); off by default',
    },
  ]).action(
    async (
      user: string | undefined,
      host: string | undefined,
      port: string | undefined,
      flags: Record<string, unknown>,
    ) => {
      // The client loads only when it runs, so --help and the other commands start fast.
      const { runConnect } = await import('../client/run.js');
      process.exitCode = await runConnect({
        ...(user ? { user } : {}),
        ...(host ? { host } : {}),
        ...(port ? { port } : {}),
        ...flags,
      });
    },
  );
}
