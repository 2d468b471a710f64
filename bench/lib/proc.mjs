// Process and machine measurements from /proc (Linux): CPU seconds and resident memory of a
// pid, the machine description, and how many file descriptors a child may open.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const CLK_TCK =
  Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process (all its threads), in seconds; 1/CLK_TCK resolution. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * A CPU-time reading of a process for {@link cpuSecondsSince}: each thread's time on a CPU in
 * ns (/proc/PID/task/TID/schedstat), and utime + stime in ticks as the fallback.
 */
export function cpuReading(pid) {
  const threads = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) threads.set(tid, ns);
    }
  } catch {
    threads.clear(); // no schedstat here: ticks only
  }
  return { threads, seconds: cpuSeconds(pid) };
}

/**
 * CPU seconds a process (all its threads) used since `before` (a {@link cpuReading}), to the
 * nanosecond: utime + stime move in 10 ms ticks, which is 3–4 % of a 500-connect admission
 * storm or a 50-pair relay run on a fast machine. A thread that started since counts whole;
 * if one that was there has ended, or the ticks say more than two ticks beyond (a thread
 * came and went in between), the ticks are used instead.
 */
export function cpuSecondsSince(pid, before) {
  const now = cpuReading(pid);
  if (before.threads.size === 0 || now.threads.size === 0) return now.seconds - before.seconds;
  let ns = 0;
  for (const [tid, was] of before.threads) {
    const is = now.threads.get(tid);
    if (is === undefined) return now.seconds - before.seconds;
    ns += is - was;
  }
  for (const [tid, is] of now.threads) if (!before.threads.has(tid)) ns += is;
  // A thread that started and ended in between is in neither reading, only in the ticks.
  const ticks = now.seconds - before.seconds;
  return ticks > ns / 1e9 + 2 / CLK_TCK ? ticks : ns / 1e9;
}

/**
 * The main (JavaScript) thread's scheduler times from /proc/PID/schedstat: seconds it ran
 * and seconds it was runnable but waited for a CPU (the machine is shared). Wall time minus
 * both is time it was blocked: waiting on the network, the disk or flow control.
 */
export function schedTimes(pid) {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { run: run / 1e9, wait: wait / 1e9 };
  } catch {
    return { run: Number.NaN, wait: Number.NaN };
  }
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The executable name of a pid (to check that taskset/prlimit exec'd into the server). */
export function commandName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

// /proc/stat "cpu" line, in ticks: user nice system idle iowait irq softirq steal guest
// guest_nice (guest time is already inside user).
function cpuTimes() {
  const v = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const at = (i) => v[i] ?? 0;
  return {
    processes: at(0) + at(1) + at(2),
    interrupts: at(5) + at(6),
    steal: at(7),
    idle: at(3) + at(4),
  };
}

/**
 * CPU seconds used since boot by the whole machine: in processes (user + system, all of
 * them), in interrupts (irq + softirq: loopback TCP is largely processed there), and
 * stolen by the hypervisor.
 */
export function machineCpuSeconds() {
  const t = cpuTimes();
  return {
    processes: t.processes / CLK_TCK,
    interrupts: t.interrupts / CLK_TCK,
    steal: t.steal / CLK_TCK,
  };
}

/** Fraction of all CPUs busy over the next `ms` (from /proc/stat): is the machine quiet? */
export async function machineBusy(ms = 1000) {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  const busy = b.processes + b.interrupts + b.steal - (a.processes + a.interrupts + a.steal);
  const all = busy + b.idle - a.idle;
  return all === 0 ? 0 : busy / all;
}

export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown CPU';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || cpus().length;
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    model,
    cores,
    memoryGiB: Math.round(memKb / 1024 / 1024),
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    clockTicks: CLK_TCK,
  };
}

function currentNofile() {
  const out = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' });
  const [soft, hard] = out
    .trim()
    .split('\n')
    .map((v) => (v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v)));
  return { soft, hard };
}

/**
 * The command prefix that gives a child at least `needed` file descriptors. Node already
 * raises its own soft limit to the hard one (children inherit it), so a prefix
 * (`prlimit --nofile=N:N`) is only needed when the hard limit is too low, and raising that
 * needs root with CAP_SYS_RESOURCE. Throws when `needed` cannot be reached.
 */
export function nofilePrefix(needed) {
  const { soft, hard } = currentNofile();
  if (soft >= needed) return { prefix: [], limit: soft };
  const tryLimit = (n) =>
    spawnSync('prlimit', [`--nofile=${n}:${n}`, 'true'], { stdio: 'ignore' }).status === 0;
  if (tryLimit(needed))
    return { prefix: ['prlimit', `--nofile=${needed}:${needed}`], limit: needed };
  if (hard >= needed && tryLimit(hard))
    return { prefix: ['prlimit', `--nofile=${hard}:${hard}`], limit: hard };
  throw new Error(
    `need ${needed} file descriptors per process but ulimit -n is ${soft} (hard ${hard}) and prlimit cannot raise it: run as root or raise the hard limit`,
  );
}
