// What the cluster bench's daemons allocate per relay, and where: runs
// `bench/cluster.mjs --only PART --json` with bench/lib/alloc-probe.cjs preloaded into the
// daemons (V8 sampling heap profiler, collected objects included) and prints the bytes
// allocated per relay summed over the daemons of that part, and the top stacks (last three
// frames). Unlike CPU time on a shared machine, this hardly depends on the load (sampling
// and batching still move it by some ±10 %). The profile covers the daemons' whole life,
// so the warm-up relays count too: per relay = bytes / (pairs × (warmup × (rounds + 1) +
// messages)).
//
//   npm run build && node bench/cluster-alloc.mjs [--only cross|same] [--top 20] [cluster.mjs flags]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionTaker } from './lib/args.mjs';

const args = process.argv.slice(2);
const take = optionTaker(args);
const only = take('only', 'cross');
const top = Number(take('top', 20));
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const relays =
  flag('pairs', 20) *
  (flag('warmup', 2000) * (flag('warmup-rounds', 1) + 1) + flag('messages', 3000));
const here = new URL('.', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'securechat-alloc-'));
try {
  const run = spawnSync(
    process.execPath,
    [join(here, 'cluster.mjs'), '--only', only, '--json', ...args],
    {
      encoding: 'utf8',
      timeout: 600_000,
      env: {
        ...process.env,
        BENCH_ALLOC_DIR: dir,
        BENCH_NODE_ARGS: `-r ${join(here, 'lib/alloc-probe.cjs')}`,
      },
    },
  );
  if (run.status !== 0) throw new Error(`cluster.mjs failed:\n${run.stderr.slice(-2000)}`);
  const bySite = new Map();
  let total = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.heapprofile'));
  for (const file of files) {
    const walk = (node, stack) => {
      const { functionName, url, lineNumber } = node.callFrame;
      const frames = [
        ...stack,
        `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`,
      ];
      // Start-up (module loading) and the probe itself are not relays.
      if (frames.some((f) => /inspector|alloc-probe|cjs\/loader|esm\//.test(f))) return;
      if (node.selfSize > 0) {
        const site = frames.slice(-3).join(' > ');
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
      }
      for (const child of node.children) walk(child, frames);
    };
    walk(JSON.parse(readFileSync(join(dir, file), 'utf8')).head, []);
  }
  console.log(
    `${only}: ${files.length} daemon(s), ${(total / relays).toFixed(0)} bytes allocated per relay (${relays} relays)`,
  );
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(bytes / relays).toFixed(0).padStart(6)}  ${site}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
