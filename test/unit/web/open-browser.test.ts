import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  browserOpener,
  launcherHtml,
  openInBrowser,
} from '../../../src/client/web/open-browser.js';

const URL_WITH_TOKEN = `http://127.0.0.1:4321/?token=${'A'.repeat(43)}`;

describe('opening the browser without the token on a command line', () => {
  it('uses the desktop opener only where there is a desktop', () => {
    expect(browserOpener('linux', {})).toBeUndefined();
    expect(browserOpener('linux', { DISPLAY: ':0' })).toBe('xdg-open');
    expect(browserOpener('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBe('xdg-open');
    expect(browserOpener('darwin', {})).toBe('open');
    expect(browserOpener('win32', {})).toBeUndefined();
  });

  it('the launcher forwards to the link and refuses anything that is not one', () => {
    expect(launcherHtml(URL_WITH_TOKEN)).toContain(`content="0;url=${URL_WITH_TOKEN}"`);
    expect(() => launcherHtml('http://127.0.0.1:1/?token=x"><script>')).toThrow();
    expect(() => launcherHtml(`http://evil.example/?token=${'A'.repeat(43)}`)).toThrow();
  });

  it('writes the launcher owner-only in the config dir, passes only its path, removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'securechat-open-'));
    // `true` stands in for xdg-open: it is given the path and exits.
    const launcher = openInBrowser(dir, URL_WITH_TOKEN, 'true');
    expect(await launcher.started).toBe(true);
    expect(launcher.path).toBe(join(dir, 'web', 'open.html'));
    expect(statSync(launcher.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'web')).mode & 0o777).toBe(0o700);
    expect(readFileSync(launcher.path, 'utf8')).toContain(URL_WITH_TOKEN);
    launcher.remove();
    launcher.remove();
    expect(existsSync(launcher.path)).toBe(false);
    // A missing opener program is no error for the chat (the link is printed anyway).
    const missing = openInBrowser(dir, URL_WITH_TOKEN, 'securechat-no-such-opener');
    expect(await missing.started).toBe(false);
    missing.remove();
  });
});
