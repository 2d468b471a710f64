import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/slow/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Most files wait on sockets and child processes, not the CPU: two workers on a
    // 2-core machine halve the wall time (vitest's default would be one).
    maxWorkers: 2,
    // One module graph per worker instead of one per file: importing src and @noble again
    // for each of ~90 files cost ~40 s of CPU. Tests therefore keep no state in modules
    // (each builds its own servers, clients and stores) and restore what they spy on.
    isolate: false,
    reporters: ['default'],
  },
});
