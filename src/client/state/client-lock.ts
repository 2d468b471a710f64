import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { CliError, ExitCode } from '../../errors.js';
import { writePrivateFileAtomic } from './config-dir.js';

/** Who holds (or last held) an identity's state: written beside it once the lock is ours. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ms since the epoch. */
  started: number;
  command: string;
}

/** The state of `user` is in use by another running client. */
export class StateLockedError extends CliError {
  readonly code = 'E_STATE_LOCKED';
  readonly holder: LockHolder | undefined;

  constructor(user: string, path: string, holder: LockHolder | undefined) {
    super(
      `${user}'s securechat state (${path}) is in use by ${describeHolder(holder)}: only one client per identity may run at a time`,
      {
        exitCode: ExitCode.failure,
        hint: 'close the other client first (two clients on one state would reuse message keys)',
      },
    );
    this.holder = holder;
  }
}

function describeHolder(holder: LockHolder | undefined): string {
  if (!holder || !processAlive(holder.pid)) return 'another securechat client';
  const since = new Date(holder.started).toISOString().replace('T', ' ').slice(0, 19);
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  return `another securechat client (pid ${holder.pid}${where}, started ${since} UTC: ${holder.command})`;
}

/** Whether a process with this pid exists here (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a holder file (absent or unreadable: undefined; it is informational only). */
export function readHolder(path: string): LockHolder | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (!Number.isSafeInteger(raw.pid) || typeof raw.host !== 'string') return undefined;
    return {
      pid: raw.pid!,
      host: raw.host,
      started: Number.isSafeInteger(raw.started) ? raw.started! : 0,
      command: typeof raw.command === 'string' ? raw.command.slice(0, 200) : '',
    };
  } catch {
    return undefined;
  }
}

/** Records this process as the holder (after the lock was taken). */
export function writeHolder(path: string, now: number): LockHolder {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: now,
    command: ['securechat', ...process.argv.slice(2)].join(' ').slice(0, 200),
  };
  writePrivateFileAtomic(path, `${JSON.stringify(holder)}\n`);
  return holder;
}

/** Removes the holder file if it still names this process (a clean exit). */
export function clearHolder(path: string): void {
  if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
}
