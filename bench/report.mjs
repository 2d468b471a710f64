// Renders a bench run (bench/results/latest.json shape) as the Markdown appended to RESULTS.md.
const fmt = (value, digits = 0) =>
  value === undefined || Number.isNaN(value)
    ? '—'
    : Number(value).toLocaleString('en-US', {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      });
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
const NAMES = {
  ours: 'securechat',
  bare: 'bare Node forwarder',
  ngircd: 'ngircd',
  inspircd: 'InspIRCd',
};

function relayTable(title, data) {
  if (!data) return '';
  const rows = Object.entries(data).map(
    ([peer, r]) =>
      `| ${NAMES[peer] ?? peer} | ${fmt(r.delivered)} / ${fmt(r.sent)} | ${fmt(r.lost)} | ${fmt(r.messagesPerSecond)} | ${fmt(r.payloadMBps, 2)} | **${fmt(r.messagesPerServerCpuSecond)}** | ${fmt(r.p50Ms, 2)} | ${fmt(r.p90Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.maxMs, 2)} |`,
  );
  const ours = data.ours;
  const ratios = ours
    ? Object.entries(data)
        .filter(([peer]) => peer !== 'ours')
        .map(
          ([peer, r]) =>
            `${NAMES[peer] ?? peer}: efficiency ${ratio(ours.messagesPerServerCpuSecond, r.messagesPerServerCpuSecond)}, p50 ${ratio(ours.p50Ms, r.p50Ms)}, p99 ${ratio(ours.p99Ms, r.p99Ms)}`,
        )
        .join('; ')
    : '';
  return `### ${title}

| server | delivered / sent | lost | msgs/s | payload MB/s | msgs per server CPU-s | p50 ms | p90 ms | p99 ms | max ms |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

securechat relative to — ${ratios}
`;
}

export function renderReport(r) {
  const m = r.machine;
  const parts = [
    `## ${r.date.slice(0, 10)} — ${m.model}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, Linux ${m.kernel}`,
    '',
    `Command: \`${r.command}\` — medians of ${r.reps} run${r.reps === 1 ? '' : 's'}; server pinned to CPU 0, load generator to CPU 1; TLS on loopback; 128-byte payloads.`,
    '',
    relayTable('Relay, 50 sender→receiver pairs, 32 in flight each', r.relay50),
    relayTable('Relay, 1 pair, 32 in flight', r.relay1),
    relayTable('Unloaded round trip, 1 pair, 1 in flight', r.rtt),
  ];
  if (r.idle && !r.idle.error) {
    parts.push(`### Idle clients

| server | clients held | RSS per connection | RSS total | ping round trip p50 / p99 (ms) |
|---|---|---|---|---|
${Object.entries(r.idle)
  .map(
    ([peer, i]) =>
      `| ${NAMES[peer] ?? peer} | ${fmt(i.clients)} | ${fmt(i.rssPerConnectionKiB, 1)} KiB | ${fmt(i.rssMiB, 1)} MiB | ${fmt(i.probeP50Ms, 2)} / ${fmt(i.probeP99Ms, 2)} |`,
  )
  .join('\n')}
`);
  } else if (r.idle?.error) parts.push(`### Idle clients\n\nnot run: ${r.idle.error}\n`);
  if (r.admission) {
    parts.push(`### Admission (TLS handshake + hello/registration + welcome)

| server | connects | server CPU per connect |
|---|---|---|
${Object.entries(r.admission)
  .map(
    ([peer, a]) =>
      `| ${peer.replace(/^(\w+)/, (w) => NAMES[w] ?? w)} | ${fmt(a.connects)} | ${fmt(a.serverCpuMsPerConnect, 3)} ms |`,
  )
  .join('\n')}
`);
  }
  if (r.rooms?.ours) {
    const x = r.rooms.ours;
    parts.push(`### Rooms (securechat only)

| members | one message to all: p50 / max | busy room: deliveries/s | deliveries per server CPU-s | delivered / expected |
|---|---|---|---|---|
| ${fmt(x.members)} | ${fmt(x.fanoutP50Ms, 1)} / ${fmt(x.fanoutMaxMs, 1)} ms | ${fmt(x.busyDeliveriesPerSecond)} | ${fmt(x.busyDeliveriesPerServerCpuSecond)} | ${fmt(x.delivered)} / ${fmt(x.expected)} |
`);
  }
  if (r.crypto) {
    parts.push(`### Client crypto (one core)

| operation | rate |
|---|---|
${r.crypto.map((c) => `| ${c.label} | ${fmt(c.perSecond)} ${c.unit} |`).join('\n')}
`);
  }
  return parts.filter(Boolean).join('\n');
}
