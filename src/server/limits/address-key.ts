import { isIPv6 } from 'node:net';

/**
 * The key per-address limits use for a client address: IPv4 addresses as they are, IPv6
 * addresses by their /64 prefix (one subscriber, one host even, usually holds a whole /64,
 * so keying by full address would hand an attacker 2^64 fresh addresses).
 */
export function addressKey(address: string): string {
  // IPv4 (no colon, no zone id): as it is, without the IPv6 pattern (runs twice per connect).
  if (!address.includes(':') && !address.includes('%')) return address;
  const bare = address.split('%')[0]!; // zone id
  if (!isIPv6(bare)) return bare;
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const groups = (text: string) =>
    text === '' ? [] : text.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [
    ...front,
    ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'),
    ...back,
  ];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
