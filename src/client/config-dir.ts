import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
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

/**
 * Writes a file atomically with mode 0600: a temporary file in the same directory, then
 * rename, so a crash never leaves a truncated key or trust file behind.
 */
export function writePrivateFileAtomic(path: string, data: string): void {
  ensurePrivateDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
