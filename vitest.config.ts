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
    reporters: ['default'],
  },
});
