import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCertificate, type TestCertificate } from './certs.js';

/** The real launcher, as users run it (the suite builds dist/ first: `npm test`). */
export const CLI = fileURLToPath(new URL('../../bin/securechat', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function lines(
  stream: NodeJS.ReadableStream,
  sink: string[],
  onLine?: (line: string) => void,
): void {
  let buffer = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      sink.push(line);
      onLine?.(line);
      newline = buffer.indexOf('\n');
    }
  });
}

async function waitUntil<T>(
  check: () => T | undefined,
  timeoutMs: number,
  what: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  pin: string;
  certPath: string;
  keyPath: string;
  stdout: string[];
  stderr: string[];
  /** Parsed pino records from stdout. */
  records(): Array<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `securechat serve` on 127.0.0.1 with a free port and throwaway certificate. */
export async function spawnServe(
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  return spawnServeOn(await makeCertificate(), ['--data', ':memory:', ...extraArgs], env);
}

/**
 * Spawns `securechat serve` on 127.0.0.1 with a free port and the given certificate (the
 * nodes of one cluster share theirs), then `extraArgs`.
 */
export function spawnServeOn(
  cert: TestCertificate,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const args = [CLI, 'serve', '--host', '127.0.0.1', '--port', '0'];
  args.push('--cert', cert.certPath, '--key', cert.keyPath, ...extraArgs);
  return spawnServeWith(args, cert.certPath, env, cert.keyPath);
}

export async function spawnServeWith(
  args: string[],
  certPath: string,
  env: NodeJS.ProcessEnv = {},
  keyPath = certPath.replace(/\.crt$/, '.key'),
): Promise<ServeProcess> {
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  lines(proc.stdout!, stdout);
  lines(proc.stderr!, stderr);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const banner = await waitUntil(
    () => {
      if (proc.exitCode !== null) throw new Error(`serve exited early:\n${stderr.join('\n')}`);
      const listening = stderr.find((l) => l.startsWith('securechat listening on'));
      const fingerprint = stderr.find((l) => l.startsWith('fingerprint '));
      return listening && fingerprint ? { listening, fingerprint } : undefined;
    },
    15_000,
    () => `the server banner; stderr so far:\n${stderr.join('\n')}`,
  );
  const port = Number(/:(\d+) /.exec(banner.listening)?.[1]);
  const pin = banner.fingerprint.slice('fingerprint '.length).trim();
  return {
    proc,
    port,
    pin,
    certPath,
    keyPath,
    stdout,
    stderr,
    records: () =>
      stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface JsonClient {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
  stderr: string[];
  home: string;
  send(line: string): void;
  /** Resolves with the first event (past or future) matching `test`. */
  waitFor(
    test: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Ends stdin (the client settles pending messages and exits) and waits for the exit code. */
  end(): Promise<number | null>;
  kill(): void;
}

/** Spawns `securechat connect <user> 127.0.0.1 <port> --json` with piped stdin. */
export function spawnJsonClient(
  user: string,
  port: number,
  extraArgs: string[],
  options: { home?: string; env?: NodeJS.ProcessEnv; cwd?: string; args?: string[] } = {},
): JsonClient {
  const home = options.home ?? mkdtempSync(join(tmpdir(), `securechat-home-${user}-`));
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'connect',
      ...(options.args ?? [user, '127.0.0.1', String(port)]),
      '--json',
      '--home',
      home,
      ...extraArgs,
    ],
    {
      cwd: options.cwd ?? tmpdir(),
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const events: Array<Record<string, unknown>> = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  lines(proc.stdout!, stdout, (line) => {
    if (line.startsWith('{')) events.push(JSON.parse(line) as Record<string, unknown>);
  });
  lines(proc.stderr!, stderr);
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return {
    proc,
    events,
    stderr,
    home,
    send(line) {
      proc.stdin!.write(`${line}\n`);
    },
    waitFor(test, timeoutMs = 10_000) {
      return waitUntil(
        () => events.find(test),
        timeoutMs,
        () => `an event; have:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`,
      );
    },
    async end() {
      proc.stdin!.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill() {
      proc.kill('SIGKILL');
    },
  };
}

export { waitUntil };
