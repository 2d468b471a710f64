import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFileAtomic } from '../state/config-dir.js';

/**
 * Opening the user's browser without putting the one-time token on a command line (which
 * every local user can read in `ps`): the link goes into a small HTML file in the private
 * config directory (0600 in a 0700 directory) that forwards to it, and the browser is
 * started with that file's path. The file is removed once the token is spent (or at quit).
 */

/** The program that opens a file in the desktop's browser, or undefined when there is none. */
export function browserOpener(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (platform === 'darwin') return 'open';
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd')
    return env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined;
  return undefined;
}

/** The launcher page: forwards to `url` at once, and says what to do if it does not. */
export function launcherHtml(url: string): string {
  // The URL is ours (http://127.0.0.1:PORT/?token=base64url): no character needs escaping
  // in an attribute, but refuse anything else rather than trust that.
  if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d{1,5}\/\?token=[A-Za-z0-9_-]{43}$/.test(url))
    throw new Error('not a securechat sign-in link');
  return (
    '<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">' +
    `<meta http-equiv="refresh" content="0;url=${url}">` +
    '<title>securechat</title><p>Opening securechat… if nothing happens, open the link printed in the terminal.</p>\n'
  );
}

export interface Launcher {
  path: string;
  /** Whether the opener program started (false: none such; the printed link remains). */
  started: Promise<boolean>;
  /** Removes the launcher file (idempotent). */
  remove(): void;
}

/** Writes the launcher into `configDir` and asks the desktop to open it (errors ignored). */
export function openInBrowser(configDir: string, url: string, opener: string): Launcher {
  const path = join(configDir, 'web', 'open.html');
  writePrivateFileAtomic(path, launcherHtml(url));
  const child = spawn(opener, [path], { detached: true, stdio: 'ignore' });
  const started = new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  child.unref();
  return { path, started, remove: () => rmSync(path, { force: true }) };
}
