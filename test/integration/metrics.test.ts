import { execFile, spawnSync } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText, total } from '../../src/stats/prometheus-text.js';
import { CLI } from '../helpers/cli.js';
import { RawClient, randomPub } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { newIdentity, v2Hello } from '../helpers/v2-hello.js';

const relay = (to: string, id: string) => ({
  type: 'relay',
  to,
  alg: 'X25519+AESGCM',
  nonce: Buffer.alloc(12).toString('base64'),
  cipher: Buffer.alloc(24, 1).toString('base64'),
  id,
});

describe('Prometheus metrics after a scripted session', () => {
  let t: TestServer;
  const clients: RawClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t.close();
  });

  it('count exactly what happened, and `securechat stats --once --json` reads them', async () => {
    t = await startTestServer({
      metrics: '127.0.0.1:0',
      framesPerSecond: 1,
      frameBurst: 8,
      lobby: undefined,
    });
    const url = `http://127.0.0.1:${t.server.metricsAddress!.port}/metrics`;
    const alice = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'alice' });
    const bob = await RawClient.hello({ port: t.port, certPem: t.certPem, user: 'bob' });
    const carol = await RawClient.connect({ port: t.port, certPem: t.certPem });
    carol.send(v2Hello(carol.socket, 'carol', newIdentity(), []));
    await carol.next((f) => f.type === 'welcome');
    clients.push(alice, bob, carol);

    alice.send(relay('bob', 'r1'));
    alice.send(relay('carol', 'r2'));
    alice.send(relay('nobody', 'r3'));
    await alice.next((f) => f.type === 'ack' && f.id === 'r1');
    await alice.next((f) => f.type === 'ack' && f.id === 'r2');
    await alice.error('E_PEER_OFFLINE');
    bob.send('not json\n');
    await bob.error('E_BAD_JSON');
    const probe = netConnect({ host: '127.0.0.1', port: t.port });
    probe.on('error', () => {});
    probe.resume();
    probe.write('GET / HTTP/1.1\r\n\r\n');
    await new Promise((resolve) => probe.once('close', resolve));
    for (let i = 0; i < 12; i++) carol.send({ type: 'ping' }); // burst 8, then limited
    await carol.error('E_RATE_LIMITED');
    await bob.sync(); // the server got this far in its event loop: everything above is counted

    const samples = parsePrometheusText(await (await fetch(url)).text());
    const value = (name: string, labels: Record<string, string> = {}) =>
      total(samples, name, labels);
    expect(value('securechat_relays_delivered_total')).toBe(2);
    expect(value('securechat_relays_failed_total', { reason: 'offline' })).toBe(1);
    expect(value('securechat_frames_rejected_total', { code: 'E_BAD_JSON' })).toBe(1);
    expect(value('securechat_hello_accepted_total', { version: 'v1' })).toBe(2);
    expect(value('securechat_hello_accepted_total', { version: 'v2' })).toBe(1);
    expect(value('securechat_tls_failures_total', { reason: 'plaintext_http' })).toBe(1);
    expect(value('securechat_tls_accepted_total')).toBe(3);
    expect(
      samples.some(
        (s) => s.name === 'securechat_tls_accepted_total' && s.labels.version === 'TLSv1.3',
      ),
    ).toBe(true);
    expect(value('securechat_connections_current')).toBe(3);
    expect(value('securechat_users_online')).toBe(3);
    expect(value('securechat_rate_limited_total', { verdict: 'limited' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(value('securechat_frames_in_total', { type: 'relay' })).toBe(3);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(samples.some((s) => s.name.startsWith('nodejs_eventloop_lag'))).toBe(true);

    // async: the server under test runs in this process and must keep answering
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [CLI, 'stats', '--once', '--json', '--interval', '200ms', '--metrics', url],
          { encoding: 'utf8', timeout: 15_000 },
          (error, stdout, stderr) =>
            resolve({
              status: error ? ((error as { code?: number }).code ?? 1) : 0,
              stdout,
              stderr,
            }),
        );
      },
    );
    expect(result.status).toBe(0);
    const snapshot = JSON.parse(result.stdout);
    expect(snapshot).toMatchObject({
      connections: 3,
      usersOnline: 3,
      relaysDelivered: 2,
      relaysFailed: { offline: 1 },
    });
    expect(snapshot.rates.messagesPerSecond).toBeGreaterThanOrEqual(0);
    void randomPub;
  });

  it('`securechat stats` explains an unreachable metrics address', () => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'stats', '--once', '--metrics', 'http://127.0.0.1:1/metrics'],
      {
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/cannot reach/);
    expect(result.stderr).toMatch(/--metrics/);
  });
});
