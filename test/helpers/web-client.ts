import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, waitUntil } from './cli.js';

/** `securechat connect <user> 127.0.0.1 <port> --web`, as a user starts the GUI. */
export interface WebClient {
  proc: ChildProcess;
  home: string;
  /** The printed sign-in link (with its one-time token). */
  url: string;
  stdout: string[];
  stderr: string[];
  stop(): Promise<number | null>;
}

export async function spawnWebClient(
  user: string,
  port: number,
  extraArgs: string[],
  home = mkdtempSync(join(tmpdir(), `securechat-web-${user}-`)),
  options: { open?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<WebClient> {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'connect',
      user,
      '127.0.0.1',
      String(port),
      '--web',
      ...(options.open ? [] : ['--no-open']),
      '--home',
      home,
      ...extraArgs,
    ],
    { cwd: tmpdir(), env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  for (const [stream, sink] of [
    [proc.stdout!, stdout],
    [proc.stderr!, stderr],
  ] as const) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => sink.push(...chunk.split('\n').filter(Boolean)));
  }
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const url = await waitUntil(
    () => {
      if (proc.exitCode !== null) throw new Error(`--web exited early:\n${stderr.join('\n')}`);
      return stdout.map((l) => l.trim()).find((l) => l.startsWith('http://127.0.0.1:'));
    },
    20_000,
    () => `the sign-in link; stdout ${stdout.join('\n')} stderr ${stderr.join('\n')}`,
  );
  return {
    proc,
    home,
    url,
    stdout,
    stderr,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGINT');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
