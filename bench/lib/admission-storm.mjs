import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * One v1 connect storm against `target` (`loadgen.mjs admission`: TLS + hello + welcome +
 * close, 8 at a time, after `warmup` unmeasured connects), from the load-generator CPU.
 * Returns the load generator's result (`serverCpuMsPerConnect`, ...); throws when a connect
 * failed. `root`: the checkout whose load generator runs (another build's, for a base).
 */
export function admissionStorm(target, cert, { count, warmup = 0, root = ROOT }) {
  const run = spawnSync(
    'taskset',
    ['-c', process.env.BENCH_LOADGEN_CPU ?? '1', process.execPath, join(root, 'bench/loadgen.mjs')]
      .concat(['admission', '--proto', 'sc', '--port', String(target.port), '--ca', cert.certPath])
      .concat(['--server-pid', String(target.pid), '--count', String(count), '--concurrency', '8'])
      .concat(['--warmup', String(warmup), '--timeout', '300']),
    { encoding: 'utf8', timeout: 330_000 },
  );
  const result = JSON.parse(run.stdout.trim().split('\n').pop() || '{}');
  if (result.error || result.failures) throw new Error(result.error ?? `${result.failures} failed`);
  return result;
}
