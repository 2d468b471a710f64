import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { commandName } from '../command-name.js';
import { CliError, ExitCode } from '../errors.js';
import { nameKey } from '../protocol/index.js';
import { ChatClient } from './chat-client.js';
import { resolveArguments } from './connect-args.js';
import type { ClientEvent } from './events.js';
import { loadOrCreateIdentity } from './identity/identity-setup.js';
import { identityFileStatus, identityPath } from './identity/keystore.js';
import { ServerConnection } from './net/connection.js';
import { refusesSession } from './net/handshake.js';
import { KnownServers } from './net/known-servers.js';
import { formatPin, type ServerPin } from './net/pinning.js';
import { resolveServerPin } from './net/server-trust.js';
import { ensurePrivateDir, resolveConfigDir, writePrivateFileAtomic } from './state/config-dir.js';
import { StateDb, statePaths } from './state/state-db.js';
import {
  createTransfers,
  defaultDownloadDir,
  parseAutoAccept,
} from './transfers/client-transfers.js';
import { TrustStore } from './trust/trust-store.js';
import { ChatController } from './ui/controller.js';
import { LineOutput } from './ui/line-output.js';
import { isInteractive, terminalPrompter } from './ui/prompts.js';
import { TerminalUI } from './ui/terminal.js';
import { browserOpener, type Launcher, openInBrowser } from './web/open-browser.js';
import { parseWebAddress, type WebAddress } from './web/web-address.js';
import { WebHost } from './web/web-host.js';

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
  /** `--peer name=fingerprint`, repeatable. */
  peer?: string[];
  /** `--web [address]`: the browser UI on loopback instead of the terminal UI. */
  web?: string | true;
  /** `--no-open`: with --web, only print the link (never start a browser). */
  open?: boolean;
  /** `--downloads DIR`: where received files go (default: downloads in the config directory). */
  downloads?: string;
  /** `--auto-accept alice:10m,bob`: accept these senders' files unasked, up to a size. */
  autoAccept?: string;
}

/** `securechat connect`: resolves arguments, identity and server trust, then runs the UI. */
export async function runConnect(options: ConnectOptions): Promise<number> {
  const interactive = isInteractive() && !options.json;
  const prompter = interactive ? terminalPrompter : undefined;
  const web = webAddress(options);
  const configDir = resolveConfigDir(options.home);
  ensurePrivateDir(configDir);
  const args = resolveArguments(options, configDir, prompter);
  if (options.legacy && args.expected.length > 0) {
    throw new CliError('invites and --peer need an identity: connect without --legacy', {
      exitCode: ExitCode.usage,
    });
  }
  // Every argument, the pin and the server's trust are settled before a key is created:
  // a typo costs no key file and no passphrase questions.
  const warnings: string[] = [];
  const pin = await resolveServerPin({
    host: args.host,
    port: args.port,
    ...(options.cert ? { certFile: options.cert } : {}),
    ...(options.pin ? { pin: options.pin } : {}),
    ...(args.invite ? { invitePin: args.invite.pin } : {}),
    knownServers: new KnownServers(configDir),
    warn: (text) => warnings.push(text),
    acceptNew: options.acceptNew === true,
    ...(prompter ? { confirm: (question: string) => prompter.confirm(question) } : {}),
  });
  const fresh = !options.legacy && identityFileStatus(configDir, args.user) === 'missing';
  // One client per identity: its state is locked before anything is read or created.
  const state = options.legacy ? undefined : StateDb.open(configDir, args.user);
  let outcome: SessionOutcome | undefined;
  try {
    outcome = await runSession(options, {
      web,
      configDir,
      interactive,
      prompter,
      state,
      args,
      pin,
      warnings,
    });
    return outcome.exitCode;
  } finally {
    state?.close();
    // A key made by this run that no server ever accepted (refused name, wrong port) is
    // not left behind.
    if (fresh && state && outcome?.welcomed !== true) discardNewIdentity(configDir, args.user);
  }
}

/** Removes the key (and state) of an identity created by this run. */
function discardNewIdentity(configDir: string, user: string): void {
  const key = identityPath(configDir, user);
  const paths = statePaths(configDir, user);
  const existed = existsSync(key);
  for (const file of [
    key,
    paths.db,
    `${paths.db}-wal`,
    `${paths.db}-shm`,
    paths.holder,
    paths.witness,
  ])
    rmSync(file, { force: true });
  if (existed)
    process.stderr.write(
      `The new identity key for ${user} was removed: no server accepted it (${key}).\n`,
    );
}

function webAddress(options: ConnectOptions): WebAddress | undefined {
  if (options.web === undefined) return undefined;
  if (options.json)
    throw new CliError('--web and --json are two front ends: choose one', {
      exitCode: ExitCode.usage,
    });
  const address = parseWebAddress(options.web);
  if ('error' in address) throw new CliError(address.error, { exitCode: ExitCode.usage });
  return address;
}

interface SessionSetup {
  /** `--web`: where the browser UI listens. */
  web: WebAddress | undefined;
  configDir: string;
  interactive: boolean;
  prompter: typeof terminalPrompter | undefined;
  /** The identity's locked state (undefined in legacy mode). */
  state: StateDb | undefined;
  args: ReturnType<typeof resolveArguments>;
  pin: ServerPin;
  /** Shown once the UI runs. */
  warnings: string[];
}

interface SessionOutcome {
  exitCode: number;
  /** Whether the server welcomed us at least once. */
  welcomed: boolean;
}

async function runSession(options: ConnectOptions, setup: SessionSetup): Promise<SessionOutcome> {
  const { configDir, interactive, prompter, state, pin, warnings } = setup;
  const { user, host, port, lastPath, invite, expected } = setup.args;
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
  writePrivateFileAtomic(lastPath, JSON.stringify({ user, host, port: String(port) }));

  const reconnect = options.reconnect !== false;
  const connection = new ServerConnection({
    host,
    port,
    pin,
    reconnect: { enabled: reconnect },
  });
  const trust = identity ? new TrustStore(configDir, user) : undefined;
  for (const promise of expected)
    trust?.expect(formatPin(pin.sha256), promise.name, promise.fingerprint);
  const autoAccept = options.autoAccept ? parseAutoAccept(options.autoAccept) : undefined;
  if (typeof autoAccept === 'string') throw new CliError(autoAccept, { exitCode: ExitCode.usage });
  const client = new ChatClient({
    name: user,
    connection,
    ...(identity && trust && state
      ? {
          identity,
          trust,
          state,
          transfers: createTransfers({
            downloadDir: resolve(options.downloads ?? defaultDownloadDir(configDir)),
            ...(autoAccept ? { autoAccept } : {}),
            state: { db: state, identity },
          }),
        }
      : {}),
  });
  const color = interactive && options.color !== false && !process.env.NO_COLOR;
  let launcher: Launcher | undefined;
  const web = setup.web
    ? new WebHost({
        ...setup.web,
        onSignIn: () => launcher?.remove(),
        self: user,
        ...(identity ? { uploadDir: join(configDir, 'web', 'uploads') } : {}),
        ...(identity ? { identity: client.user.identityFingerprint() } : {}),
      })
    : undefined;
  const ui =
    web ??
    (interactive
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
        }));
  // On a terminal a plain line goes to the active window, at start the public lobby, and
  // window 1 is the status window; the page names its conversation on every line.
  const controller = new ChatController(client, ui, undefined, {
    lobbyFirst: interactive && !web,
    quietLobby: interactive && !web,
    windows: interactive && !web,
    self: user,
  });
  if (web) {
    web.attach({
      handle: (line) => controller.handle(line),
      safetyNumberWith: (name) => client.trust.safetyNumberWith(name),
      sendFile: async (target, path) =>
        client.transfers
          ? client.transfers.send(target, path)
          : 'file transfer needs a v2 identity',
    });
    const url = await startWeb(web);
    const opener = options.open === false ? undefined : browserOpener();
    if (opener) launcher = openInBrowser(configDir, url, opener);
  } else if (ui instanceof TerminalUI || ui instanceof LineOutput) ui.attach(controller);

  const started: ClientEvent = {
    kind: 'info',
    ts: Date.now(),
    text:
      (identity
        ? `you are ${user}, identity ${client.user.identityFingerprint()} (the fingerprint friends compare; connection key ${client.user.fingerprint})`
        : `you are ${user}: key ${client.user.fingerprint} (legacy v1 mode: no identity)`) +
      `; server pinned by ${pin.source}. Type /help for commands.`,
  };
  ui.show(started);
  for (const text of warnings)
    ui.show({ kind: 'warning', ts: Date.now(), text, code: 'E_PIN_OTHER' });
  for (const promise of expected) {
    ui.show({
      kind: 'info',
      ts: Date.now(),
      text: `${promise.name} must have identity ${promise.fingerprint} (${invite ? 'from the invite' : '--peer'}): any other key for that name is refused`,
    });
  }

  let exitCode: number | undefined;
  let ended: () => void = () => {};
  const end = new Promise<void>((resolve) => {
    ended = resolve;
  });
  /** The first reason to stop decides the exit code. */
  const finish = (code: number) => {
    exitCode ??= code;
    ended();
  };
  client.on('fatal', (error) => {
    const code = (error as { code?: string }).code;
    ui.show({ kind: 'error', ts: Date.now(), text: error.message, ...(code ? { code } : {}) });
    const presented = (error as { presented?: string }).presented;
    if (code === 'E_PIN_MISMATCH' && presented && pin.source.startsWith('known-servers')) {
      ui.show({
        kind: 'info',
        ts: Date.now(),
        text: `if the server owner confirms ${presented} out of band, accept it (your known peers are kept) with: ${commandName()} server-cert ${host} ${port} --pin ${presented}`,
      });
    }
    finish(
      code === 'E_PIN_MISMATCH'
        ? ExitCode.trust
        : refusesSession(code)
          ? ExitCode.refused
          : ExitCode.failure,
    );
  });
  // --no-reconnect: the first time the link is down for good, the client exits (code 1).
  client.on('event', (event) => {
    if (event.kind === 'connection' && event.status.state === 'closed' && !reconnect)
      finish(ExitCode.failure);
  });
  client.start();
  const interrupt = () => ui.quit();
  if (web) process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
  await Promise.race([ui.closed, end]);
  process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
  launcher?.remove();
  // After a fatal refusal the input is still open: close it (restoring the terminal), or
  // the process would wait at a dead prompt, or for the end of piped input.
  ui.quit();
  if (!interactive && exitCode === undefined) await settle(client, 10_000);
  await client.close();
  if (interactive) process.stdout.write('\n');
  return { exitCode: exitCode ?? ExitCode.ok, welcomed: client.welcomedOnce };
}

/**
 * Listens and prints the sign-in URL (returned). The token never goes on a browser's
 * command line, which other local users can read in `ps`: open-browser.ts opens a private
 * forwarding file instead.
 */
async function startWeb(web: WebHost): Promise<string> {
  let url: string;
  try {
    url = await web.listen();
  } catch (error) {
    throw new CliError(`the web UI cannot listen: ${(error as Error).message}`, {
      exitCode: ExitCode.usage,
    });
  }
  process.stdout.write(
    `securechat web UI: open this link in your browser (it works once; keep it private):\n  ${url}\nPress Ctrl-C here to quit.\n`,
  );
  return url;
}

/** After piped input ends: wait (bounded) until queued and unconfirmed messages settle. */
async function settle(client: ChatClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (client.queued > 0 || client.unacknowledged > 0)) {
    if (client.connectionState.state === 'closed') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
