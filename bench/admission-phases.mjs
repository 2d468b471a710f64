// Where a v1 connect's server time goes *in context*: the connect storm of
// `run.mjs --only admission` (TLS + hello + welcome + close, 8 at a time) against a copy of
// this build whose connect-path functions are wrapped in wall-clock meters, then the
// median, p90 and mean µs per call of each. Times are inclusive (a phase contains the
// phases it calls) and measured on the server's CPU, between TLS handshakes: what a phase
// costs when its code and data are cold, not what a micro-benchmark of it says.
// `decodeJsonLine` is also run twice more on the same line right after the real call
// ("again"), which shows how much of a phase's cost is cold caches.
//
//   npm run build && node bench/admission-phases.mjs [--count 3000] [--warmup 1000]
//
// The wrappers are applied to the text of the built files in a temporary copy; a function
// that moved or was renamed makes the tool stop with the name it could not find.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admissionStorm } from './lib/admission-storm.mjs';
import { optionTaker } from './lib/args.mjs';
import { killAll, makeCertificate, TARGETS } from './servers.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
const count = Number(take('count', 3000));
const warmup = Number(take('warmup', 1000));
if (args.length > 0 || !(count > 0) || !(warmup >= 0)) {
  console.error('usage: node bench/admission-phases.mjs [--count 3000] [--warmup 1000]');
  process.exit(2);
}

const ROOT = new URL('..', import.meta.url).pathname;
const METER = `// written by bench/admission-phases.mjs
import { writeFileSync } from 'node:fs';
const times = new Map();
const now = process.hrtime.bigint;
export function __meter(label, run) {
  const t0 = now();
  try {
    return run();
  } finally {
    const ns = Number(now() - t0);
    let list = times.get(label);
    if (list === undefined) times.set(label, (list = []));
    list.push(ns);
  }
}
export function __reset() {
  times.clear();
}
process.on('SIGUSR2', __reset);
process.prependListener('SIGTERM', () => {
  writeFileSync(process.env.PHASES_OUT, JSON.stringify([...times]));
});
`;

/** Wrappers, by built file: functions (renamed, re-declared around a meter) and methods. */
const PROBES = [
  { file: 'server/tls-listener.js', klass: 'TlsListener', listener: true },
  { file: 'server/connection-events.js', method: 'ConnectionEvents.secured' },
  { file: 'server/socket-transport.js', fn: 'socketTransport' },
  { file: 'server/socket-transport.js', attach: true },
  { file: 'server/batched-writer.js', flush: true },
  { file: 'protocol/frame.js', fn: 'decodeJsonLine', again: true },
  { file: 'protocol/core.js', fn: 'readHello' },
  { file: 'server/session-line.js', fn: 'readSessionLine' },
  { file: 'server/session.js', method: 'Session.admit' },
  { file: 'server/session.js', method: 'Session.transportClosed' },
  { file: 'server/session-welcome.js', fn: 'welcome', local: true },
  { file: 'server/admission.js', fn: 'admitHelloNow' },
  { file: 'server/store/sqlite-store.js', method: 'SqliteStore.hasBindingNow' },
  { file: 'server/name-quota.js', method: 'NameQuota.takeV1' },
  { file: 'server/directory.js', method: 'PeerDirectory.usersJson' },
  { file: 'server/directory.js', method: 'PeerDirectory.tryAdd' },
  { file: 'server/presence.js', method: 'PresenceBroadcaster.joined' },
  { file: 'server/presence.js', method: 'PresenceBroadcaster.left' },
  { file: 'server/presence.js', method: 'PresenceBroadcaster.flush' },
];

function replaceOnce(text, from, to, what) {
  if (!text.includes(from))
    throw new Error(`admission-phases: ${what} not found (was it renamed?)`);
  return text.replace(from, to);
}

function instrument(source, probe) {
  let text = source;
  if (probe.fn) {
    const keyword = probe.local ? 'function ' : 'export function ';
    text = replaceOnce(text, `${keyword}${probe.fn}(`, `function ${probe.fn}__metered(`, probe.fn);
    const call = `${probe.fn}__metered(...a)`;
    const body = probe.again
      ? `const r = __meter('${probe.fn}', () => ${call}); __meter('${probe.fn} again', () => ${call}); __meter('${probe.fn} again', () => ${call}); return r;`
      : `return __meter('${probe.fn}', () => ${call});`;
    text += `\n${probe.local ? '' : 'export '}function ${probe.fn}(...a) { ${body} }\n`;
  } else if (probe.method) {
    const [klass, name] = probe.method.split('.');
    if (!text.includes(`class ${klass} `) || !text.includes(` ${name}(`))
      throw new Error(`admission-phases: ${probe.method} not found (was it renamed?)`);
    text += `\n{ const m = ${klass}.prototype.${name}; ${klass}.prototype.${name} = function (...a) { return __meter('${probe.method}', () => m.apply(this, a)); }; }\n`;
  } else if (probe.listener) {
    // The accept handler and the whole session set-up after the handshake (server.ts onSecure).
    text = replaceOnce(
      text,
      'export class TlsListener ',
      'class TlsListener__metered ',
      'TlsListener',
    );
    text += `
export class TlsListener extends TlsListener__metered {
  constructor(options) {
    const onSecure = options.onSecure;
    super({ ...options, onSecure: (...a) => __meter('session set-up (onSecure)', () => onSecure(...a)) });
    const [accept] = this.server.listeners('connection');
    this.server.removeListener('connection', accept);
    this.server.on('connection', (socket) => __meter('accept (caps, first read armed)', () => accept(socket)));
  }
}
`;
  } else if (probe.attach) {
    text = replaceOnce(
      text,
      'export function attachSession(',
      'function attachSession__metered(',
      'attachSession',
    );
    text += `
export function attachSession(socket, session, closed) {
  return attachSession__metered(socket, { receive: (chunk) => __meter('input read (hello → welcome queued)', () => session.receive(chunk)) }, () => __meter('close', closed));
}
`;
  } else if (probe.flush) {
    text = replaceOnce(
      text,
      'process.nextTick(flushDirty)',
      "process.nextTick(() => __meter('batched write (TLS write)', flushDirty))",
      'flushDirty',
    );
  }
  return text;
}

const dir = mkdtempSync(join(tmpdir(), 'securechat-phases-'));
process.on('exit', () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
const copy = join(dir, 'build');
mkdirSync(join(copy, 'bin'), { recursive: true });
cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
cpSync(join(ROOT, 'bin/securechat'), join(copy, 'bin/securechat'));
cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
writeFileSync(join(copy, 'dist/phases-meter.js'), METER);
const byFile = new Map();
for (const probe of PROBES) byFile.set(probe.file, [...(byFile.get(probe.file) ?? []), probe]);
for (const [file, probes] of byFile) {
  const path = join(copy, 'dist', file);
  const depth = file.split('/').length - 1;
  let text = readFileSync(path, 'utf8');
  for (const probe of probes) text = instrument(text, probe);
  const meter = `${depth === 0 ? './' : '../'.repeat(depth)}phases-meter.js`;
  writeFileSync(path, `import { __meter } from '${meter}';\n${text}`);
}

const cert = await makeCertificate(dir);
const out = join(dir, 'phases.json');
process.env.PHASES_OUT = out;
const target = await TARGETS.ours(cert, { entry: join(copy, 'bin/securechat') });
const storm = (connects) => admissionStorm(target, cert, { count: connects });
storm(warmup, 0);
process.kill(target.pid, 'SIGUSR2'); // the warm-up's times are dropped
await new Promise((resolve) => setTimeout(resolve, 200));
const result = storm(count, 0);
await target.stop();
const phases = JSON.parse(readFileSync(out, 'utf8'));

const quantile = (sorted, q) => sorted[Math.floor(q * (sorted.length - 1))] / 1000;
console.log(
  `${result.connects} v1 connects after ${warmup}: ${result.serverCpuMsPerConnect.toFixed(3)} ms server CPU per connect (all threads, meters included)`,
);
console.log(
  'phase (inclusive, µs of wall time on the server CPU)      calls   median      p90     mean',
);
for (const [label, list] of phases) {
  const sorted = [...list].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, ns) => sum + ns, 0) / sorted.length / 1000;
  console.log(
    `${label.padEnd(55)} ${String(sorted.length).padStart(6)} ${quantile(sorted, 0.5).toFixed(1).padStart(8)} ${quantile(sorted, 0.9).toFixed(1).padStart(8)} ${mean.toFixed(1).padStart(8)}`,
  );
}
