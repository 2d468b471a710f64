import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, ExitCode } from '../errors.js';
import { isValidName, nameKey } from '../protocol/index.js';
import {
  type Invite,
  InviteError,
  looksLikeInvite,
  parseInvite,
  parsePeerOption,
} from './net/invite.js';
import type { Prompter } from './ui/prompts.js';

interface LastServer {
  user?: string;
  host?: string;
  port?: string;
}

export const USAGE =
  'usage: securechat connect <user> <host> <port> [--pin sha256:… | --cert FILE]\n' +
  '       securechat connect <user> <invite>';

export interface ConnectArguments {
  user: string;
  host: string;
  port: number;
  lastPath: string;
  /** The invite given instead of host and port. */
  invite?: Invite;
  /** Identity fingerprints promised for names (the invite's and `--peer`). */
  expected: Array<{ name: string; fingerprint: string }>;
}

function inviteError(error: unknown): never {
  if (error instanceof InviteError)
    throw new CliError(error.message, { exitCode: ExitCode.usage, hint: USAGE });
  throw error;
}

/**
 * `connect`'s positional arguments (user, host, port, or user and an invite anywhere
 * among them), completed from the last server and questions on a terminal.
 */
export function resolveArguments(
  options: { user?: string; host?: string; port?: string; peer?: string[] },
  configDir: string,
  prompter: Prompter | undefined,
): ConnectArguments {
  const lastPath = join(configDir, 'last-server.json');
  let last: LastServer = {};
  if (existsSync(lastPath)) {
    try {
      last = JSON.parse(readFileSync(lastPath, 'utf8')) as LastServer;
    } catch {
      last = {};
    }
  }
  const positional = [options.user, options.host, options.port].filter(
    (a): a is string => a !== undefined && a !== '',
  );
  const inviteArg = positional.find(looksLikeInvite);
  let invite: Invite | undefined;
  let { user, host, port } = options;
  if (inviteArg !== undefined) {
    try {
      invite = parseInvite(inviteArg);
    } catch (error) {
      inviteError(error);
    }
    const rest = positional.filter((a) => a !== inviteArg);
    if (rest.length > 1)
      throw new CliError('with an invite, give only your name', {
        exitCode: ExitCode.usage,
        hint: USAGE,
      });
    [user] = rest;
    host = invite.host;
    port = String(invite.port);
  }
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
      { exitCode: ExitCode.usage },
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
  const expected: ConnectArguments['expected'] = [];
  if (invite) expected.push({ name: invite.name, fingerprint: invite.fingerprint });
  for (const option of options.peer ?? []) {
    try {
      expected.push(parsePeerOption(option));
    } catch (error) {
      inviteError(error);
    }
  }
  if (expected.some((e) => nameKey(e.name) === nameKey(user)))
    throw new CliError(`that invite (or --peer) is for ${user}: yourself`, {
      exitCode: ExitCode.usage,
    });
  return {
    user,
    host,
    port: portNumber,
    lastPath,
    ...(invite ? { invite } : {}),
    expected,
  };
}
