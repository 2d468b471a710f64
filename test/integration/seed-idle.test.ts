import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The v1 idle timeout against the independent seed client (test/interop/seed_client.py),
 * which never pings: it must survive far past the v2 idle timeout and be cut after the v1
 * one (at least an hour). The server's clock is injected, so nobody waits an hour.
 */
const SEED_CLIENT = fileURLToPath(new URL('../interop/seed_client.py', import.meta.url));
const hasPythonCrypto =
  spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 10_000 })
    .status === 0;
const MINUTE = 60_000;

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!hasPythonCrypto)('v1 idle timeout with the seed client', () => {
  let t: TestServer;
  const kills: Array<() => void> = [];
  afterEach(async () => {
    for (const kill of kills.splice(0)) kill();
    await t?.close();
  });

  it('keeps a silent seed client for an hour, then closes it with E_IDLE_TIMEOUT', async () => {
    // Failed on the old code: v1 sessions had no idle timeout at all.
    const clock = { now: 1_700_000_000_000 };
    t = await startTestServer({ idleTimeoutMs: 5 * MINUTE }, { now: () => clock.now });
    const proc = spawn('python3', [
      SEED_CLIENT,
      'silent',
      '127.0.0.1',
      String(t.port),
      t.certPath,
      '60',
    ]);
    kills.push(() => proc.kill('SIGKILL'));
    const events: Array<Record<string, unknown>> = [];
    let buffer = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
        events.push(JSON.parse(buffer.slice(0, i)) as Record<string, unknown>);
        buffer = buffer.slice(i + 1);
      }
    });
    await until(() => events.find((e) => e.event === 'welcome'), 'the welcome');

    clock.now += 59 * MINUTE; // long past the v2 idle timeout
    await t.server.sweep();
    proc.stdin.write('list\n');
    await until(() => events.find((e) => e.event === 'users'), 'a users answer');

    clock.now += 60 * MINUTE + 1;
    await t.server.sweep();
    const refusal = await until(
      () => events.find((e) => e.event === 'error'),
      'the idle timeout error',
    );
    expect(refusal.code).toBe('E_IDLE_TIMEOUT');
    await until(() => events.find((e) => e.event === 'closed'), 'the close');
  });
});
