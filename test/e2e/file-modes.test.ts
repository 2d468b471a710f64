import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServeProcess, spawnServe, waitUntil } from '../helpers/cli.js';
import { loginV2 } from '../helpers/hostile.js';
import { newIdentity } from '../helpers/v2-hello.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('files the daemon writes', () => {
  let server: ServeProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('attack 10: the database and logs are 0600 in 0700 directories; security events have their own file', async () => {
    // Failed on the old code: the database and log files were created 0644.
    const root = mkdtempSync(join(tmpdir(), 'securechat-modes-'));
    const dataDir = join(root, 'state');
    const logDir = join(root, 'logs');
    server = await spawnServe([
      '--data',
      join(dataDir, 'state.db'),
      '--log-file',
      join(logDir, 'server.log'),
    ]);
    const certPem = readFileSync(server.certPath, 'utf8');
    const client = await loginV2({ port: server.port, certPem }, 'alice', newIdentity());
    client.close();
    const securityFile = await waitUntil(
      () => {
        try {
          return readdirSync(logDir).find((f) => f.startsWith('security'));
        } catch {
          return undefined; // not created yet
        }
      },
      10_000,
      () => `a security log in ${readdirSync(logDir).join(', ')}`,
    );
    await server.stop();
    server = undefined;
    for (const dir of [dataDir, logDir]) expect(mode(dir)).toBe(0o700);
    const files = [
      ...readdirSync(dataDir).map((f) => join(dataDir, f)),
      ...readdirSync(logDir).map((f) => join(logDir, f)),
    ];
    expect(files.some((f) => f.endsWith('state.db'))).toBe(true);
    // (the chunk store of file transfer is a directory beside the database: 0700)
    expect(files.some((f) => f.endsWith('files'))).toBe(true);
    for (const file of files)
      expect([file, mode(file)]).toEqual([file, statSync(file).isDirectory() ? 0o700 : 0o600]);
    expect(readFileSync(join(logDir, securityFile), 'utf8')).toContain(
      '"event":"server.listening"',
    );
  });
});
