import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { CLI, spawnServe } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { spawnWebClient } from '../helpers/web-client.js';
import { get } from '../helpers/web-page.js';

const connect = (...args: string[]) =>
  spawnSync(
    process.execPath,
    [CLI, 'connect', 'alice', '127.0.0.1', '5000', '--pin', `sha256:${'a'.repeat(64)}`, ...args],
    {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, SECURECHAT_HOME: mkdtempSync(join(tmpdir(), 'securechat-webflag-')) },
    },
  );

describe('connect --web refuses what would expose the chat', () => {
  it('a non-loopback address is a usage error, before any key is made', () => {
    const result = connect('--web', '0.0.0.0:8080');
    expect(result.status).toBe(ExitCode.usage);
    expect(result.stderr).toMatch(/loopback only/);
    expect(result.stderr).not.toMatch(/identity/i);
  });

  it('--web and --json together are a usage error', () => {
    const result = connect('--web', '--json');
    expect(result.status).toBe(ExitCode.usage);
    expect(result.stderr).toMatch(/choose one/);
  });
});

describe('connect --web with a desktop', () => {
  it('opens the browser with a private launcher file, never the token, and removes it at sign-in', async () => {
    const server = await spawnServe();
    // A stand-in xdg-open that records its command line.
    const bin = mkdtempSync(join(tmpdir(), 'securechat-opener-'));
    const record = join(bin, 'args');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\n`, {
      mode: 0o755,
    });
    const web = await spawnWebClient('alice', server.port, ['--pin', server.pin], undefined, {
      open: true,
      env: { DISPLAY: ':99', PATH: `${bin}:${process.env.PATH}` },
    });
    try {
      const launcher = join(web.home, 'web', 'open.html');
      await until(() => existsSync(record), 10_000);
      const args = readFileSync(record, 'utf8').trim();
      expect(args).toBe(launcher);
      expect(args).not.toContain('token');
      expect(statSync(launcher).mode & 0o777).toBe(0o600);
      expect(readFileSync(launcher, 'utf8')).toContain(web.url);
      const { port, search } = new URL(web.url);
      expect((await get(Number(port), `/${search}`)).status).toBe(303);
      expect(existsSync(launcher)).toBe(false);
    } finally {
      await web.stop();
      await server.stop();
    }
  });
});
