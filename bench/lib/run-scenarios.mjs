// The scenarios of `npm run bench` (bench/run.mjs): each runs a load generator on the
// load-generator CPU against a fresh server per repetition and keeps the medians.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS } from '../servers.mjs';
import { nofilePrefix, rssBytes } from './proc.mjs';
import { medianOf } from './stats.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * The scenario runners for one bench run: `cert` (and its `certDir`), the `counts`, the
 * `peers` and `reps`, `quick`/`large`, `note(text)`, the load generator's CPU and the
 * `--ours-args` flags.
 */
export function benchScenarios({
  cert,
  certDir,
  counts,
  peers,
  reps,
  quick,
  large,
  note,
  loadgenCpu,
  oursArgs,
}) {
  /** Runs a bench script on the load-generator CPU; resolves with its last JSON line. */
  function loadgen(script, args, { onLine, prefix = [] } = {}) {
    return new Promise((resolve, reject) => {
      const command = [
        ...prefix,
        'taskset',
        '-c',
        loadgenCpu,
        process.execPath,
        join(ROOT, 'bench', script),
        ...args,
      ];
      const proc = spawn(command[0], command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      let pending = '';
      proc.stdout.on('data', (d) => {
        out += d;
        pending += d;
        let newline = pending.indexOf('\n');
        while (newline !== -1) {
          onLine?.(pending.slice(0, newline), proc);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
      });
      proc.on('exit', (code) => {
        const last = out.trim().split('\n').pop();
        try {
          const parsed = JSON.parse(last);
          if (parsed.error) reject(new Error(parsed.error));
          else resolve(parsed);
        } catch {
          reject(new Error(`${script} exited ${code}: ${out.slice(-300)}`));
        }
      });
    });
  }

  const targetArgs = (target) => [
    '--port',
    String(target.port),
    '--ca',
    cert.certPath,
    '--server-pid',
    String(target.pid),
  ];

  /**
   * Runs `fn` against each peer `reps` times, a fresh server each time; keeps medians.
   * Repetitions are interleaved (ours, bare, ... then the reverse order, ...), so a drift of
   * the shared machine during a scenario falls on every peer alike and not on the ratios.
   */
  async function medianRuns(label, fn, targets = peers, serverOptions = {}) {
    const runs = new Map(targets.map((peer) => [peer, []]));
    for (let r = 0; r < reps; r++) {
      for (const peer of r % 2 ? [...targets].reverse() : targets) {
        const given = typeof serverOptions === 'function' ? serverOptions() : serverOptions;
        const target = await TARGETS[peer](cert, peer === 'ours' ? withOursArgs(given) : given);
        try {
          runs.get(peer).push(await fn(target));
        } catch (error) {
          console.error(`  ${label} ${peer}: ${error.message}`);
        } finally {
          await target.stop();
        }
      }
    }
    const out = {};
    for (const [peer, done] of runs) {
      out[peer] = done.length > 0 ? medianOf(done) : { error: 'every repetition failed' };
      console.error(`  ${label} ${peer}: ${JSON.stringify(out[peer]).slice(0, 240)}`);
    }
    return out;
  }

  /** `--ours-args`: serve flags added to our server's in every scenario (after the bench's own). */
  function withOursArgs(serverOptions) {
    const extra = oursArgs?.split(/\s+/).filter(Boolean) ?? [];
    if (extra.length === 0) return serverOptions;
    return { ...serverOptions, extraArgs: [...(serverOptions.extraArgs ?? []), ...extra] };
  }

  function relayScenario(label, scenario) {
    return medianRuns(label, async (target) => {
      const result = await loadgen('loadgen.mjs', [
        'relay',
        '--proto',
        target.proto,
        ...targetArgs(target),
        '--pairs',
        String(scenario.pairs),
        '--messages',
        String(scenario.messages),
        '--window',
        String(scenario.window),
        '--warmup',
        String(scenario.warmup),
        '--grace',
        String(counts.grace),
        '--timeout',
        '600',
        ...(scenario.turns ? ['--turns', '1'] : []),
      ]);
      const { latencyMs, ...rest } = result;
      return {
        ...rest,
        p50Ms: latencyMs.p50,
        p90Ms: latencyMs.p90,
        p99Ms: latencyMs.p99,
        maxMs: latencyMs.max,
      };
    });
  }

  async function idleScenario() {
    const count = counts.idle;
    // Each side holds `count` sockets (plus the probe, listeners, logs, libraries).
    const { prefix, limit } = nofilePrefix(count + 256);
    console.error(`  idle: ${count} clients, file descriptor limit ${limit} per process`);
    return medianRuns(
      'idle',
      async (target) => {
        await new Promise((r) => setTimeout(r, 500));
        const baselineRss = rssBytes(target.pid);
        let held;
        await loadgen(
          'loadgen.mjs',
          [
            'idle',
            '--proto',
            target.proto,
            '--kind',
            target.kind === 'ours' || target.kind === 'bare' ? target.kind : 'irc',
            '--port',
            String(target.port),
            '--ca',
            cert.certPath,
            '--count',
            String(count),
            '--probes',
            quick ? '20' : '50',
            '--timeout',
            large ? '900' : '300',
          ],
          {
            prefix,
            onLine: (line, proc) => {
              if (line.startsWith('{"holding"')) {
                held = JSON.parse(line);
                // Let allocations settle, read the RSS, then probe the loaded event loop.
                setTimeout(() => {
                  held.rss = rssBytes(target.pid);
                  proc.stdin.write('PROBE\n');
                }, 2000);
              } else if (line.startsWith('{"probe"')) {
                held.probe = JSON.parse(line).probe;
                proc.stdin.end();
              }
            },
          },
        ).catch((error) => {
          if (!held?.probe) throw error;
        });
        if (!held?.probe) throw new Error('idle: no probe result');
        if (held.helloNote) note(`idle ${target.name}: ${held.helloNote}`);
        if (held.retries || held.failures)
          note(
            `idle ${target.name}: ${held.retries} registration(s) retried, ${held.failures} failed after 3 attempts (first error: ${held.firstFailure})`,
          );
        return {
          clients: held.holding,
          failures: held.failures,
          retries: held.retries,
          firstFailure: held.firstFailure,
          hello: held.hello,
          probeKind: held.probeKind,
          registrationSeconds: held.registrationSeconds,
          rssPerConnectionKiB: (held.rss - baselineRss) / held.holding / 1024,
          rssBaselineMiB: baselineRss / 1024 / 1024,
          rssMiB: held.rss / 1024 / 1024,
          lagBaselineP50Ms: held.baseline.p50,
          lagBaselineP99Ms: held.baseline.p99,
          lagP50Ms: held.probe.p50,
          lagP99Ms: held.probe.p99,
          lagMaxMs: held.probe.max,
          lagTimeouts: held.probe.timeouts,
        };
      },
      peers,
      { prefix },
    );
  }

  function admissionRuns(
    label,
    proto,
    targets,
    { count = counts.admission, warmup = counts.admissionWarmup } = {},
  ) {
    return medianRuns(
      label,
      (target) =>
        loadgen('loadgen.mjs', [
          'admission',
          '--proto',
          proto,
          ...targetArgs(target),
          '--count',
          String(count),
          '--concurrency',
          String(counts.admissionConcurrency),
          '--warmup',
          String(warmup),
          '--timeout',
          '600',
        ]),
      targets,
    );
  }

  async function admissionScenario() {
    const sc = peers.filter((p) => p === 'ours' || p === 'bare');
    const irc = peers.filter((p) => p === 'ngircd' || p === 'inspircd');
    const out = {
      ...(await admissionRuns('admission v1', 'sc', sc)),
      ...(await admissionRuns('admission irc', 'irc', irc)),
    };
    // The v2 hello with the identity proof (two Ed25519 verifications on the server).
    const v2 = peers.includes('ours') ? await admissionRuns('admission v2', 'sc2', ['ours']) : {};
    // After the JIT is done: a fresh Node server still compiles its connect path (Node's TLS
    // JS and, for ours, several times as much of its own) for thousands of connects; the
    // 200-connect warm-up above measures a just-started daemon, this one a running daemon.
    const v1Warm = await admissionRuns('admission v1 warm', 'sc', sc, {
      count: counts.admissionWarm,
      warmup: counts.admissionWarmWarmup,
    });
    return { v1: out, v2, v1Warm };
  }

  /** One user receives `mailboxMessages` stored messages on login, in pages (securechat only). */
  function mailboxScenario() {
    return medianRuns(
      'mailbox',
      async (target) => {
        const result = await loadgen('mailbox.mjs', [
          ...targetArgs(target),
          '--messages',
          String(counts.mailboxMessages),
          '--bytes',
          '512',
        ]);
        if (result.error) throw new Error(result.error);
        return result;
      },
      ['ours'],
      // Stored messages on disk, as deployed (SQLite WAL in a fresh file per repetition).
      () => ({ extraArgs: ['--data', join(mkdtempSync(join(certDir, 'mailbox-')), 'state.db')] }),
    );
  }

  /**
   * The memory attacks on a client of issue 12 (a room member handing out many sender keys,
   * throw-away identities opening sessions): a real client's RSS, state size and message
   * latency, for this build and, with BENCH_BASELINE_CLI, an older one (securechat only).
   */
  async function attacksScenario() {
    const clients = {
      after: join(ROOT, 'bin/securechat'),
      ...(process.env.BENCH_BASELINE_CLI ? { before: process.env.BENCH_BASELINE_CLI } : {}),
    };
    const out = {};
    for (const [label, cli] of Object.entries(clients)) {
      const runs = await medianRuns(
        `client attacks (${label})`,
        async (target) => {
          const result = await loadgen('client-attacks.mjs', [
            ...targetArgs(target),
            '--cli',
            cli,
            ...Object.entries(counts.attacks).flatMap(([k, v]) => [`--${k}`, String(v)]),
          ]);
          return Object.fromEntries(
            ['rooms', 'sessions'].flatMap((part) =>
              Object.entries(result[part]).map(([k, v]) => [`${part}.${k}`, v]),
            ),
          );
        },
        ['ours'],
      );
      out[label] = runs.ours;
    }
    return out;
  }

  function roomsScenario() {
    return medianRuns(
      'rooms',
      async (target) => {
        const result = await loadgen('rooms.mjs', [
          ...targetArgs(target),
          '--members',
          String(counts.roomMembers),
          '--senders',
          '10',
          '--messages',
          quick ? '20' : '100',
        ]);
        return {
          members: result.members,
          fanoutP50Ms: result.fanoutMs.p50,
          fanoutMaxMs: result.fanoutMs.max,
          busyDeliveriesPerSecond: result.busy.deliveriesPerSecond,
          busyDeliveriesPerServerCpuSecond: result.busy.deliveriesPerServerCpuSecond,
          delivered: result.busy.deliveries,
          expected: result.busy.expected,
        };
      },
      ['ours'],
    );
  }

  return {
    loadgen,
    relayScenario,
    idleScenario,
    admissionScenario,
    mailboxScenario,
    attacksScenario,
    roomsScenario,
  };
}
