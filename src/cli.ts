import { Command, CommanderError } from 'commander';
import { addCertsCommand } from './cli/certs.js';
import { addConnectCommand } from './cli/connect.js';
import { addInviteCommand } from './cli/invite.js';
import { addKeysCommand } from './cli/keys.js';
import { addServeCommand } from './cli/serve.js';
import { addServerCertCommand } from './cli/server-cert.js';
import { addStatsCommand } from './cli/stats.js';
import { addWhoCommand } from './cli/who.js';
import { describeError, ExitCode } from './errors.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('securechat')
    .description('End-to-end encrypted chat over a self-hosted TLS relay')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride();
  addServeCommand(program);
  addConnectCommand(program);
  addInviteCommand(program);
  addServerCertCommand(program);
  addCertsCommand(program);
  addKeysCommand(program);
  addStatsCommand(program);
  addWhoCommand(program);
  return program;
}

/** Prints an expected failure as a message plus a hint, never a stack trace. */
export function handleError(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    // commander already printed usage or help
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const { message, hint, exitCode } = describeError(error);
  process.stderr.write(`securechat: ${message}\n`);
  if (hint) process.stderr.write(`  hint: ${hint}\n`);
  if (process.env.SECURECHAT_DEBUG && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  return exitCode;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
    process.exitCode = process.exitCode ?? ExitCode.ok;
  } catch (error) {
    process.exitCode = handleError(error);
  }
}
