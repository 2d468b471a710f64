import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { CLI } from '../helpers/cli.js';

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
