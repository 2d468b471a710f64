import { isLoopbackHost } from './web-server.js';

export interface WebAddress {
  host: string;
  port: number;
}

/**
 * `--web [address]`: `true` (the flag alone) is 127.0.0.1 on a free port; otherwise
 * `HOST:PORT`, `PORT` or `[::1]:PORT`, and HOST must be loopback. Returns an error text
 * for anything else.
 */
export function parseWebAddress(value: string | true): WebAddress | { error: string } {
  if (value === true || value === '') return { host: '127.0.0.1', port: 0 };
  const match = /^(?:(\[::1\]|[A-Za-z0-9.]{1,64}):)?(\d{1,5})$/.exec(value);
  const host = match?.[1] === '[::1]' ? '::1' : (match?.[1] ?? '127.0.0.1');
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    return { error: `--web takes 127.0.0.1:PORT, [::1]:PORT or PORT, not "${value.slice(0, 80)}"` };
  if (!isLoopbackHost(host))
    return {
      error: `--web listens on loopback only (127.0.0.1 or [::1]), not ${host}: other machines must not reach your chat`,
    };
  return { host, port };
}
