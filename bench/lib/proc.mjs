// Process and machine measurements from /proc (Linux): CPU seconds and resident memory of a
// pid, the machine description, and how many file descriptors a child may open.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const values = fields.map(Number);
  const idle = values[3] + (values[4] ?? 0); // idle + iowait
  return { idle, total: values.reduce((a, b) => a + b, 0) };
}

/** CPU seconds spent busy by the whole machine since boot (all CPUs, all processes). */
export function machineBusySeconds() {
  const { idle, total } = cpuTimes();
  return (total - idle) / CLK_TCK;
}

/** Fraction of all CPUs busy over the next `ms` (from /proc/stat): is the machine quiet? */
export async function machineBusy(ms = 1000) {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
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
