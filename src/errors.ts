/** Process exit codes of the CLI (documented in the README). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The server's certificate did not match the pin, or trust was refused. */
  trust: 3,
  /** The server refused our name or identity. */
  refused: 4,
  /** The user pressed Ctrl-C (or Ctrl-D) at a question: nothing was changed. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: printed as a message plus what to do next, no stack trace. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(
    message: string,
    options: { exitCode?: ExitCode; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }
}

/** What to check when a connection fails with a system error `code`, if we know. */
export function networkHint(code: string | undefined): string | undefined {
  switch (code) {
    case 'ECONNREFUSED':
      return 'is the server running, is the port right?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'is the host name right?';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'is the host reachable (address, firewall, tunnel still running)?';
    case 'ECONNRESET':
      return 'the server closed the link: is it a securechat server on that port?';
    default:
      return undefined;
  }
}

interface CodedError {
  code?: unknown;
  message: string;
}

/** Turns any error into the message, hint and exit code the CLI prints. */
export function describeError(error: unknown): {
  message: string;
  hint?: string;
  exitCode: ExitCode;
} {
  if (error instanceof CliError) {
    return {
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      exitCode: error.exitCode,
    };
  }
  const coded = (error ?? {}) as CodedError;
  const message = typeof coded.message === 'string' ? coded.message : String(error);
  switch (coded.code) {
    case 'E_CONFIG':
      return { message, hint: 'see `securechat serve --help`', exitCode: ExitCode.usage };
    case 'E_CERT_EXISTS':
      return {
        message,
        hint: 'pass --force to replace it (clients that pinned the old one will refuse the new one)',
        exitCode: ExitCode.usage,
      };
    case 'E_PIN_MISMATCH':
      return {
        message,
        hint: 'ask the server owner for the current fingerprint (printed when the server starts)',
        exitCode: ExitCode.trust,
      };
    case 'E_PIN_INVALID':
    case 'E_PIN_MISSING':
      return {
        message,
        hint: 'use --pin sha256:<fingerprint> as printed by `securechat serve`, or --cert server.crt',
        exitCode: ExitCode.usage,
      };
    case 'EADDRINUSE':
      return {
        message,
        hint: 'another process uses that port: pick another with --port',
        exitCode: ExitCode.failure,
      };
    case 'EACCES':
      return {
        message,
        hint: 'permission denied: use a port above 1023 or check file permissions',
        exitCode: ExitCode.failure,
      };
    case 'E_NAME_TAKEN':
    case 'E_BAD_NAME':
      return { message, hint: 'choose another name', exitCode: ExitCode.refused };
    default: {
      const hint = networkHint(typeof coded.code === 'string' ? coded.code : undefined);
      return { message, ...(hint ? { hint } : {}), exitCode: ExitCode.failure };
    }
  }
}
