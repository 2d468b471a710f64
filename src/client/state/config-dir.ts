import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The client's configuration directory: `--home` > `SECURECHAT_HOME` >
 * `$XDG_CONFIG_HOME/securechat` > `~/.config/securechat` (XDG Base Directory spec).
 */
export function resolveConfigDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.SECURECHAT_HOME) return env.SECURECHAT_HOME;
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg?.startsWith('/')) return join(xdg, 'securechat');
  return join(homedir(), '.config', 'securechat');
}

/** Creates a private directory (mode 0700) if needed. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Makes a file readable and writable by its owner only. */
export function chmodPrivate(path: string): void {
  chmodSync(path, 0o600);
}

let tmpFiles = 0;

/** Flushes a directory's entries (a created, renamed or deleted file) to disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a file atomically and durably with mode 0600: a temporary file in the same
 * directory, written and fsynced, renamed over the target, then the directory fsynced. A
 * crash or power loss leaves the old file or the new one, never a truncated key, trust or
 * state file, and never a rename that is lost although the caller went on.
 */
export function writePrivateFileAtomic(path: string, data: string): void {
  const dir = dirname(path);
  ensurePrivateDir(dir);
  // Unique per write in this process (several may come within one millisecond); a leftover
  // of a dead process under the same name is simply overwritten.
  const tmp = `${path}.tmp-${process.pid}-${++tmpFiles}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}
