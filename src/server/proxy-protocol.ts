import { isIP } from 'node:net';

/**
 * PROXY protocol header parser (HAProxy "The PROXY protocol" versions 1 and 2), as sent by
 * `ngrok tcp --proxy-proto` and load balancers before the client's first byte. Pure: it
 * looks at bytes and never reads a socket.
 */

/** Signature of a v2 header (12 bytes). */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Longest v1 header including CRLF (spec §2.1). */
export const PROXY_V1_MAX_BYTES = 107;
/** Largest v2 header we accept (16-byte fixed part + addresses + TLVs). */
export const PROXY_V2_MAX_BYTES = 16 + 536;

export interface ProxySource {
  address: string;
  port: number;
}

export type ProxyParse =
  | { status: 'incomplete' }
  /** `source` is absent for v1 UNKNOWN, v2 LOCAL or unspecified families: use the socket's. */
  | { status: 'ok'; version: 1 | 2; consumed: number; source?: ProxySource }
  | { status: 'invalid'; reason: string };

/** True when `first` can start a PROXY header (`P` for v1, CR for v2). */
export function mayStartProxyHeader(first: number): boolean {
  return first === 0x50 || first === 0x0d;
}

/** Parses a PROXY header at the start of `data`. */
export function parseProxyHeader(data: Uint8Array): ProxyParse {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0) return { status: 'incomplete' };
  if (buf[0] === 0x50) return parseV1(buf);
  if (buf[0] === 0x0d) return parseV2(buf);
  return { status: 'invalid', reason: 'not a PROXY header' };
}

function parseV1(buf: Buffer): ProxyParse {
  const prefix = 'PROXY ';
  const head = buf.subarray(0, Math.min(buf.length, prefix.length)).toString('latin1');
  if (!prefix.startsWith(head)) return { status: 'invalid', reason: 'not a PROXY v1 header' };
  const end = buf.indexOf('\r\n');
  if (end === -1) {
    return buf.length >= PROXY_V1_MAX_BYTES
      ? { status: 'invalid', reason: 'PROXY v1 header too long' }
      : { status: 'incomplete' };
  }
  if (end + 2 > PROXY_V1_MAX_BYTES)
    return { status: 'invalid', reason: 'PROXY v1 header too long' };
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'ok', version: 1, consumed: end + 2 };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) {
    return { status: 'invalid', reason: 'malformed PROXY v1 header' };
  }
  const [, family, source, destination, sourcePort, destinationPort] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expected = family === 'TCP4' ? 4 : 6;
  if (isIP(source) !== expected || isIP(destination) !== expected) {
    return { status: 'invalid', reason: 'PROXY v1 addresses do not match the family' };
  }
  const port = parsePort(sourcePort);
  if (port === undefined || parsePort(destinationPort) === undefined) {
    return { status: 'invalid', reason: 'PROXY v1 ports are invalid' };
  }
  return { status: 'ok', version: 1, consumed: end + 2, source: { address: source, port } };
}

function parsePort(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV2(buf: Buffer): ProxyParse {
  const compared = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (!buf.subarray(0, compared).equals(PROXY_V2_SIGNATURE.subarray(0, compared))) {
    return { status: 'invalid', reason: 'not a PROXY v2 header' };
  }
  if (buf.length < 16) return { status: 'incomplete' };
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: 'unsupported PROXY version' };
  const command = versionCommand & 0x0f;
  if (command > 1) return { status: 'invalid', reason: 'unknown PROXY v2 command' };
  const length = buf.readUInt16BE(14);
  if (16 + length > PROXY_V2_MAX_BYTES)
    return { status: 'invalid', reason: 'PROXY v2 header too long' };
  if (buf.length < 16 + length) return { status: 'incomplete' };
  const consumed = 16 + length;
  if (command === 0) return { status: 'ok', version: 2, consumed }; // LOCAL: health check
  const family = buf[13]! >> 4;
  const body = buf.subarray(16, consumed);
  if (family === 1) {
    if (body.length < 12) return { status: 'invalid', reason: 'PROXY v2 IPv4 block too short' };
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return { status: 'ok', version: 2, consumed, source: { address, port: body.readUInt16BE(8) } };
  }
  if (family === 2) {
    if (body.length < 36) return { status: 'invalid', reason: 'PROXY v2 IPv6 block too short' };
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    return {
      status: 'ok',
      version: 2,
      consumed,
      source: { address: compressIPv6(groups), port: body.readUInt16BE(32) },
    };
  }
  return { status: 'ok', version: 2, consumed };
}

/** RFC 5952 textual form: the longest run of zero groups becomes `::`. */
function compressIPv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}
