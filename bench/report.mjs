// Renders a bench run (the bench/results/latest.json shape) as the Markdown printed and
// appended to bench/RESULTS.md: one table per scenario, then each figure of ours as a ratio
// to each peer measured in the same run.
import { PIPELINED_TITLE, pipelinedIntro } from './pipelined.mjs';

const NAMES = {
  ours: 'securechat',
  bare: 'bare Node forwarder',
  ngircd: 'ngircd',
  inspircd: 'InspIRCd',
};
const name = (peer) => NAMES[peer] ?? peer;

const fmt = (value, digits = 0) =>
  value === undefined || value === null || !Number.isFinite(value)
    ? '—'
    : Number(value).toLocaleString('en-US', {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      });

/**
 * A table of `rows` ({ peer: result }) with `columns` ({ label, value(r), digits, better }),
 * followed by the ratio of ours to every other peer for the columns that have `better`
 * ('higher' or 'lower': which direction is good, shown as ↑ / ↓).
 */
function table(title, rows, columns, { intro = '' } = {}) {
  const entries = Object.entries(rows ?? {});
  if (entries.length === 0) return '';
  const lines = [`### ${title}`, ''];
  if (intro) lines.push(intro, '');
  lines.push(`| server | ${columns.map((c) => c.label).join(' | ')} |`);
  lines.push(`|---|${columns.map(() => '---').join('|')}|`);
  for (const [peer, r] of entries) {
    if (r.error) {
      const cells = [r.error, ...columns.slice(1).map(() => '')];
      lines.push(`| ${name(peer)} | ${cells.join(' | ')} |`);
      continue;
    }
    lines.push(
      `| ${name(peer)} | ${columns.map((c) => (c.text ? c.text(r) : fmt(c.value(r), c.digits))).join(' | ')} |`,
    );
  }
  const ours = rows.ours;
  const ratioColumns = columns.filter((c) => c.better);
  const others = entries.filter(([peer, r]) => peer !== 'ours' && !r.error);
  if (ours && !ours.error && ratioColumns.length > 0 && others.length > 0) {
    lines.push('');
    lines.push(
      `| securechat ÷ | ${ratioColumns.map((c) => `${c.label} ${c.better === 'higher' ? '↑' : '↓'}`).join(' | ')} |`,
    );
    lines.push(`|---|${ratioColumns.map(() => '---').join('|')}|`);
    for (const [peer, r] of others) {
      const cells = ratioColumns.map((c) => {
        const a = c.value(ours);
        const b = c.value(r);
        return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '—';
      });
      lines.push(`| ${name(peer)} | ${cells.join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const relayColumns = [
  {
    label: 'delivered / sent',
    text: (r) => `${fmt(r.delivered)} / ${fmt(r.sent)}`,
  },
  { label: 'stranded', value: (r) => r.stranded },
  { label: 'lost', value: (r) => r.lost },
  { label: 'msgs/s', value: (r) => r.messagesPerSecond, better: 'higher' },
  { label: 'payload MB/s', value: (r) => r.payloadMBps, digits: 2, better: 'higher' },
  {
    label: '**msgs per server CPU-s**',
    value: (r) => r.messagesPerServerCpuSecond,
    better: 'higher',
  },
  { label: 'server CPU busy', text: (r) => `${fmt(100 * r.serverCpuShare)} %` },
  { label: 'p50 ms', value: (r) => r.p50Ms, digits: 2, better: 'lower' },
  { label: 'p90 ms', value: (r) => r.p90Ms, digits: 2, better: 'lower' },
  { label: 'p99 ms', value: (r) => r.p99Ms, digits: 2, better: 'lower' },
  { label: 'max ms', value: (r) => r.maxMs, digits: 2, better: 'lower' },
];

function versions(r) {
  const list = [r.versions?.ngircd?.replace(/-.*/, ''), r.versions?.inspircd].filter(Boolean);
  return list.length ? ` Peers: ${list.join(', ')}.` : '';
}

export function renderReport(r) {
  const m = r.machine;
  const tls = Object.entries(r.relay50 ?? r.relay1 ?? r.rtt ?? {})
    .filter(([, x]) => x.tls)
    .map(([peer, x]) => `${name(peer)} ${x.tls}`)
    .join('; ');
  const parts = [
    `## ${r.date.slice(0, 16).replace('T', ' ')} UTC — ${m.model}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}`,
    '',
    `Command: \`${r.command}\` — ${r.reps === 1 ? 'one run' : `medians of ${r.reps} runs (message counts summed)`}; server pinned to CPU ${r.cpus.server}, load generator (a separate process) to CPU ${r.cpus.loadgen}; loopback; 128-byte payloads; CPUs busy before the run ${fmt(100 * r.busyBefore)} %, after ${fmt(100 * r.busyAfter)} % (other work).${versions(r)}`,
    '',
  ];
  if (tls) parts.push(`TLS negotiated: ${tls}.`, '');
  const relayIntro = (s) =>
    `${s.pairs} pair${s.pairs === 1 ? '' : 's'} × ${fmt(s.messages)} messages, ${s.window} in flight per sender (after ${fmt(s.warmup)} warm-up messages per pair).`;
  parts.push(
    table('Relay, 50 sender→receiver pairs', r.relay50, relayColumns, {
      intro: relayIntro(r.counts.relay50),
    }),
    table('Relay, 1 pair', r.relay1, relayColumns, { intro: relayIntro(r.counts.relay1) }),
    table('Unloaded round trip, 1 pair, 1 in flight', r.rtt, relayColumns, {
      intro: relayIntro(r.counts.rtt),
    }),
    table(PIPELINED_TITLE, r.pipelined, relayColumns, {
      intro: r.counts.pipelined ? pipelinedIntro(r.counts.pipelined) : '',
    }),
  );
  if (r.idle?.error) parts.push(`### Idle clients\n\nnot run: ${r.idle.error}\n`);
  else if (r.idle)
    parts.push(
      table(
        'Idle clients',
        r.idle,
        [
          { label: 'clients held', value: (i) => i.clients },
          { label: 'hello', text: (i) => i.hello },
          {
            label: 'RSS per connection KiB',
            value: (i) => i.rssPerConnectionKiB,
            digits: 1,
            better: 'lower',
          },
          {
            label: 'RSS MiB (before → held)',
            text: (i) => `${fmt(i.rssBaselineMiB, 1)} → ${fmt(i.rssMiB, 1)}`,
          },
          { label: 'lag probe', text: (i) => i.probeKind },
          { label: 'probe p50 ms, no clients', value: (i) => i.lagBaselineP50Ms, digits: 2 },
          {
            label: 'probe p50 ms, clients held',
            value: (i) => i.lagP50Ms,
            digits: 2,
            better: 'lower',
          },
          {
            label: 'probe p99 ms, clients held',
            value: (i) => i.lagP99Ms,
            digits: 2,
            better: 'lower',
          },
        ],
        { intro: `${fmt(r.counts.idle)} registered idle clients held at once.` },
      ),
    );
  if (r.admission) {
    const admissionColumns = [
      { label: 'connects', value: (a) => a.connects },
      { label: 'failed', value: (a) => a.failures },
      {
        label: '**server CPU ms per connect**',
        value: (a) => a.serverCpuMsPerConnect,
        digits: 3,
        better: 'lower',
      },
      { label: 'connects/s', value: (a) => a.connectsPerSecond, better: 'higher' },
      { label: 'connect p50 ms', value: (a) => a.connectP50Ms, digits: 2, better: 'lower' },
    ];
    parts.push(
      table(
        'Admission (TCP + TLS handshake + hello/registration + welcome, then close)',
        r.admission.v1,
        admissionColumns,
        {
          intro: `${fmt(r.counts.admission)} connects, ${r.counts.admissionConcurrency} at a time${r.counts.admissionWarmup ? `, after ${fmt(r.counts.admissionWarmup)} unmeasured ones (warm-up)` : ''}. securechat and the bare forwarder: v1 hello; IRC: NICK/USER until 001.`,
        },
      ),
    );
    if (r.admission.v1Warm && Object.keys(r.admission.v1Warm).length > 0)
      parts.push(
        table(
          'Admission after the JIT warmed up (a running daemon; securechat and the bare forwarder, v1 hello)',
          r.admission.v1Warm,
          admissionColumns,
          {
            intro: `${fmt(r.counts.admissionWarm)} connects, ${r.counts.admissionConcurrency} at a time, after ${fmt(r.counts.admissionWarmWarmup)} unmeasured ones. A fresh Node server is still compiling its connect path for the first thousands of connects (ours has several times as much code on it as the bare forwarder): the table above is a just-started daemon, this one a daemon that has run for a while.`,
          },
        ),
      );
    if (r.admission.v2?.ours)
      parts.push(
        table(
          'Admission, securechat v2 hello (identity proof: two Ed25519 verifications)',
          r.admission.v2,
          admissionColumns,
        ),
      );
  }
  if (r.rooms?.ours && !r.rooms.ours.error) {
    const x = r.rooms.ours;
    parts.push(`### Rooms (securechat only)

| members | one message to all: p50 / max | busy room: deliveries/s | deliveries per server CPU-s | delivered / expected |
|---|---|---|---|---|
| ${fmt(x.members)} | ${fmt(x.fanoutP50Ms, 1)} / ${fmt(x.fanoutMaxMs, 1)} ms | ${fmt(x.busyDeliveriesPerSecond)} | ${fmt(x.busyDeliveriesPerServerCpuSecond)} | ${fmt(x.delivered)} / ${fmt(x.expected)} |
`);
  }
  if (r.mailbox?.ours && !r.mailbox.ours.error) {
    const x = r.mailbox.ours;
    parts.push(`### Mailbox delivery on login (securechat only)

One user receives messages stored while offline (relay lines of ${fmt(x.lineBytes)} bytes, SQLite on disk), in pages of 100 messages / 256 KiB, the next after the client's \`fetched\`; time from the hello; RSS sampled every 10 ms.

| stored per run | delivered / expected | storing took | welcome after | time to drain | messages/s | server RSS before login → peak |
|---|---|---|---|---|---|---|
| ${fmt(x.messages)} | ${fmt(x.delivered)} / ${fmt(x.expected)} | ${fmt(x.storeSeconds, 2)} s | ${fmt(x.welcomeMs, 1)} ms | ${fmt(x.drainSeconds, 2)} s | ${fmt(x.messagesPerSecond)} | ${fmt(x.rssBeforeMiB, 1)} → ${fmt(x.rssPeakMiB, 1)} MiB |
`);
  }
  if (r.attacks?.after && !r.attacks.after.error) {
    const a = r.counts.attacks;
    const mib = (x, part) =>
      `${fmt(x[`${part}.rssBeforeMiB`], 1)} → ${fmt(x[`${part}.rssPeakMiB`], 1)} MiB (held ${fmt(x[`${part}.heapHeldBeforeMiB`], 1)} → ${fmt(x[`${part}.heapHeldAfterMiB`], 1)} MiB)`;
    const row = (label, x) =>
      x && !x.error
        ? `| ${label} | ${mib(x, 'rooms')}, ${fmt(x['rooms.seconds'], 1)} s | ${mib(x, 'sessions')} | ${fmt(x['sessions.stateBytes'] / 1024 / 1024, 2)} MB | ${fmt(x['sessions.messageMsP50'], 1)} / ${fmt(x['sessions.messageMsMax'], 1)} ms |`
        : `| ${label} | failed: ${x?.error ?? 'no result'} | | | |`;
    parts.push(`### Memory attacks on a client (issue 12; securechat only)

A real client (\`connect --json\`) through our server. Rooms: one member hands it ${fmt(a.keys)} sender keys and under each sends messages skipping ${fmt(a.skipped)} message keys. Sessions: ${fmt(a.identities)} throw-away identities open ${fmt(a.sessions)} sessions each, every first message skipping ${fmt(a.skipped)} keys; then an ordinary friend's messages are timed from the write to the client showing them. RSS sampled every 20 ms; "held" is the heap the client still uses after a full GC (what it keeps, as opposed to garbage the allocator has not handed back). "before" is the client of BENCH_BASELINE_CLI (an older build), when given.

| client | rooms: RSS before → peak (held), time | sessions: RSS before → peak (held) | state on disk after | a friend's message shown after: p50 / max |
|---|---|---|---|---|
${[r.attacks.before ? row('before', r.attacks.before) : '', row('after', r.attacks.after)].filter(Boolean).join('\n')}
`);
  }
  if (r.crypto) {
    parts.push(`### Client crypto (one core, medians of 3 timed rounds after warm-up)

| operation | rate |
|---|---|
${r.crypto.map((c) => `| ${c.label} | ${fmt(c.perSecond)} ${c.unit} |`).join('\n')}
`);
  }
  if (r.notes?.length) parts.push(`Notes:\n\n${r.notes.map((n) => `- ${n}`).join('\n')}\n`);
  return parts.filter(Boolean).join('\n');
}
