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
    const heavy = /node_modules\\/(ioredis|better-sqlite3|prom-client|pino|ws)\\//;
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

describe('CLI start-up', () => {
  it('defining the commands loads neither the daemon nor the client (they load when run)', () => {
    expect(heavyPackagesLoadedBy(`import('./dist/cli.js')`)).toEqual([]);
  });

  it('the probe sees the daemon when it is loaded (the check above can fail)', () => {
    expect(heavyPackagesLoadedBy(`import('./dist/cli/serve-run.js')`)).toEqual(
      expect.arrayContaining(['better-sqlite3', 'ioredis', 'pino', 'prom-client']),
    );
  });
});
