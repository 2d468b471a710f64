import { formatLocalDateTime } from '../client/ui/render.js';
import { CliError } from '../errors.js';
import type { ConnectedUser } from '../server/metrics.js';

export interface WhoFlags {
  admin: string;
  token?: string;
  json?: boolean;
}

/** The rows `securechat who` prints (pure, for tests). */
export function formatWho(users: readonly ConnectedUser[]): string[] {
  if (users.length === 0) return ['nobody is connected'];
  const rows = [...users]
    .sort((a, b) => a.connectedSince - b.connectedSince)
    .map((u) => [
      u.name,
      u.address,
      `v${u.version}${u.caps.length > 0 ? ` (${u.caps.join(',')})` : ''}`,
      formatLocalDateTime(new Date(u.connectedSince)),
    ]);
  const head = ['user', 'address', 'client', 'connected since'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)];
}

/** `securechat who`: asks the admin listener who is connected and prints it. */
export async function runWho(flags: WhoFlags): Promise<void> {
  const url = `${flags.admin.replace(/\/+$/, '')}/who`;
  let response: Response;
  try {
    response = await fetch(url, {
      signal: AbortSignal.timeout(5000),
      ...(flags.token ? { headers: { authorization: `Bearer ${flags.token}` } } : {}),
    });
  } catch (cause) {
    throw new CliError(`cannot reach ${url}: ${(cause as Error).message}`, {
      hint: 'start the server with --metrics (default 127.0.0.1:9464)',
    });
  }
  if (response.status === 403)
    throw new CliError(`${url} refused: /who answers loopback callers, or with the admin token`, {
      hint: 'run on the server host, or pass --token (serve reads SECURECHAT_ADMIN_TOKEN)',
    });
  if (!response.ok) throw new CliError(`${url} answered HTTP ${response.status}`);
  const body = (await response.json()) as { users: ConnectedUser[] };
  process.stdout.write(
    flags.json ? `${JSON.stringify(body)}\n` : `${formatWho(body.users).join('\n')}\n`,
  );
}
