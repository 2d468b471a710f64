import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { isValidName, nameKey } from '../protocol/index.js';
import { ChatClient } from './chat-client.js';
import { ensurePrivateDir, resolveConfigDir, writePrivateFileAtomic } from './config-dir.js';
import { ServerConnection } from './connection.js';
import { ChatController } from './controller.js';
import type { ClientEvent } from './events.js';
import { loadOrCreateIdentity } from './identity-setup.js';
import { KnownServers } from './known-servers.js';
import { isInteractive, type Prompter, terminalPrompter } from './prompts.js';
import { resolveServerPin } from './server-trust.js';
import { TrustStore } from './trust-store.js';
import { LineOutput } from './ui/line-output.js';
import { TerminalUI } from './ui/terminal.js';

export interface ConnectOptions {
  user?: string;
  host?: string;
  port?: string;
  cert?: string;
  pin?: string;
  acceptNew?: boolean;
  json?: boolean;
  color?: boolean;
  home?: string;
  legacy?: boolean;
  reconnect?: boolean;
  bell?: boolean;
  saveMessageHistory?: boolean;
}

interface LastServer {
  user?: string;
  host?: string;
  port?: string;
}

const USAGE = 'usage: securechat connect <user> <host> <port> [--pin sha256:… | --cert FILE]';

function resolveArguments(
  options: ConnectOptions,
  configDir: string,
  prompter: Prompter | undefined,
) {
  const lastPath = join(configDir, 'last-server.json');
  let last: LastServer = {};
  if (existsSync(lastPath)) {
    try {
      last = JSON.parse(readFileSync(lastPath, 'utf8')) as LastServer;
    } catch {
      last = {};
    }
  }
  let { user, host, port } = options;
  if (!user || !host || !port) {
    if (!prompter) {
      throw new CliError(`missing ${!user ? 'user' : !host ? 'host' : 'port'}\n${USAGE}`, {
        exitCode: ExitCode.usage,
        hint: 'arguments are only asked for on a terminal',
      });
    }
    user ||= prompter.ask('Your name', last.user);
    host ||= prompter.ask('Server host', last.host ?? '127.0.0.1');
    port ||= prompter.ask('Server port', last.port ?? '5000');
  }
  if (!isValidName(user)) {
    throw new CliError(
      `invalid user name "${String(user).slice(0, 40)}": use 1-32 of A-Z a-z 0-9 _ . -`,
      {
        exitCode: ExitCode.usage,
      },
    );
  }
  const portNumber = Number(port);
  if (!/^\d{1,5}$/.test(port) || portNumber < 1 || portNumber > 65535) {
    throw new CliError(`invalid port "${port.slice(0, 20)}"`, {
      exitCode: ExitCode.usage,
      hint: USAGE,
    });
  }
  if (!host.trim() || /\s/.test(host))
    throw new CliError('invalid host', { exitCode: ExitCode.usage, hint: USAGE });
  return { user, host, port: portNumber, lastPath };
}

/** `securechat connect`: resolves arguments, identity and server trust, then runs the UI. */
export async function runConnect(options: ConnectOptions): Promise<number> {
  const interactive = isInteractive() && !options.json;
  const prompter = interactive ? terminalPrompter : undefined;
  const configDir = resolveConfigDir(options.home);
  ensurePrivateDir(configDir);
  const { user, host, port, lastPath } = resolveArguments(options, configDir, prompter);
  const notify = (text: string) => process.stderr.write(`${text}\n`);

  const identity = options.legacy
    ? undefined
    : loadOrCreateIdentity({
        configDir,
        name: user,
        ...(process.env.SECURECHAT_PASSPHRASE !== undefined
          ? { passphrase: process.env.SECURECHAT_PASSPHRASE }
          : {}),
        ...(prompter ? { prompter } : {}),
        notify,
      });
  const pin = await resolveServerPin({
    host,
    port,
    ...(options.cert ? { certFile: options.cert } : {}),
    ...(options.pin ? { pin: options.pin } : {}),
    defaultCertFile: 'certs/server.crt',
    knownServers: new KnownServers(configDir),
    acceptNew: options.acceptNew === true,
    ...(prompter ? { confirm: (question: string) => prompter.confirm(question) } : {}),
  });
  writePrivateFileAtomic(lastPath, JSON.stringify({ user, host, port: String(port) }));

  const connection = new ServerConnection({
    host,
    port,
    pin,
    reconnect: { enabled: options.reconnect !== false },
  });
  const client = new ChatClient({
    name: user,
    connection,
    ...(identity ? { identity, trust: new TrustStore(configDir, user), configDir } : {}),
  });
  const color = interactive && options.color !== false && !process.env.NO_COLOR;
  const ui = interactive
    ? new TerminalUI({
        input: process.stdin,
        output: process.stdout,
        self: user,
        color,
        bell: options.bell !== false,
        historyFile: join(configDir, 'history', `${nameKey(user)}.json`),
        saveMessageHistory: options.saveMessageHistory === true,
      })
    : new LineOutput({
        input: process.stdin,
        output: process.stdout,
        self: user,
        json: options.json === true,
        color: false,
      });
  const controller = new ChatController(client, ui);
  ui.attach(controller);

  const started: ClientEvent = {
    kind: 'info',
    ts: Date.now(),
    text:
      `you are ${user}: key ${client.ownFingerprint}` +
      (identity
        ? `, identity ${client.trustCommands.ownIdentityFingerprint()}`
        : ' (legacy v1 mode: no identity)') +
      `; server pinned by ${pin.source}. Type /help for commands.`,
  };
  ui.show(started);

  let exitCode: number = ExitCode.ok;
  const fatal = new Promise<void>((resolve) => {
    client.on('fatal', (error) => {
      const code = (error as { code?: string }).code;
      exitCode =
        code === 'E_PIN_MISMATCH'
          ? ExitCode.trust
          : code?.startsWith('E_NAME') ||
              code === 'E_IDENTITY_REQUIRED' ||
              code === 'E_BAD_PROOF' ||
              code === 'E_REPLACED'
            ? ExitCode.refused
            : ExitCode.failure;
      ui.show({ kind: 'error', ts: Date.now(), text: error.message, ...(code ? { code } : {}) });
      resolve();
    });
  });
  client.start();
  await Promise.race([ui.closed, fatal]);
  // After a fatal refusal the input is still open: close it (restoring the terminal), or
  // the process would wait at a dead prompt, or for the end of piped input.
  ui.quit();
  if (!interactive && exitCode === ExitCode.ok) await settle(client, 10_000);
  await client.close();
  if (interactive) process.stdout.write('\n');
  return exitCode;
}

/** After piped input ends: wait (bounded) until queued and unconfirmed messages settle. */
async function settle(client: ChatClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (client.queued > 0 || client.unacknowledged > 0)) {
    if (client.connectionState.state === 'closed') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
