import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Loads the built CLI's entry module in a fresh Node and lists the heavy CommonJS packages
 * it pulled in (ESM imports of CommonJS packages land in require.cache).
 */
function heavyPackagesLoadedBy(script: string): string[] {
  const probe = `
    const heavy = /node_modules\\/(ioredis|better-sqlite3|prom-client|pino|pino-roll|date-fns|ws|reflect-metadata)\\//;
    ${script}
      .then(() => {
        const names = new Set();
        for (const key of Object.keys(require.cache)) {
          const match = heavy.exec(key);
          if (match) names.add(match[1]);
        }
        process.stdout.write(JSON.stringify([...names].sort()));
      })
      .catch((error) => { process.stderr.write(String(error)); process.exit(1); });
  `;
  const result = spawnSync(process.execPath, ['-e', probe], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

/** The npm packages and our top folders whose ES modules a CLI run resolved. */
function modulesResolvedBy(args: string[]): Set<string> {
  const result = spawnSync(
    process.execPath,
    [
      '--no-warnings',
      '--experimental-loader',
      join(root, 'test', 'helpers', 'module-trace-hook.mjs'),
      join(root, 'bin', 'securechat'),
      ...args,
    ],
    { cwd: root, encoding: 'utf8', timeout: 30_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  const seen = new Set<string>();
  for (const line of result.stderr.split('\n')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (pkg) seen.add(pkg[1]!);
    const own = /\/dist\/([^/]+)\//.exec(line);
    if (own) seen.add(`dist/${own[1]}`);
  }
  return seen;
}

describe('CLI start-up', () => {
  it('defining the commands loads neither the daemon nor the client (they load when run)', () => {
    expect(heavyPackagesLoadedBy(`import('./dist/cli.js')`)).toEqual([]);
  });

  it('the probe sees the daemon when it is loaded (the check above can fail); ioredis waits for --redis, prom-client for --metrics, the certificate generator for a missing pair, the log rotation (pino-roll, date-fns) for --log-file', () => {
    const loaded = heavyPackagesLoadedBy(`import('./dist/cli/serve-run.js')`);
    expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'pino']));
    // (the cluster code and its Redis client load only with --redis: test/slow/lazy-redis.test.ts)
    expect(loaded).not.toContain('ioredis');
    // metrics only with --metrics; @peculiar/x509 (ESM, with the CommonJS reflect-metadata it
    // needs) only to generate a certificate (test/unit/server/certs-lazy.test.ts)
    expect(loaded).not.toContain('prom-client');
    expect(loaded).not.toContain('reflect-metadata');
    expect(loaded).not.toContain('pino-roll');
    expect(loaded).not.toContain('date-fns');
  });

  it.each(['--version', 'keys --help', 'invite --help', 'who --help'])(
    '`%s` loads no crypto library and no client code (those load when a command runs)',
    (command) => {
      const seen = modulesResolvedBy(command.split(' '));
      expect(seen.has('commander'), 'the probe sees modules').toBe(true);
      expect([...seen].filter((m) => m.startsWith('@noble/') || m === 'dist/client')).toEqual([]);
    },
  );

  it('the module probe sees the client when a command runs (the check above can fail)', () => {
    const seen = modulesResolvedBy(['keys', '--home', join(root, 'test', 'no-such-home')]);
    expect(seen.has('dist/client')).toBe(true);
  });
});
