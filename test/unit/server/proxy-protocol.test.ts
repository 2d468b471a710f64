import { describe, expect, it } from 'vitest';
import { PROXY_V2_SIGNATURE, parseProxyHeader } from '../../../src/server/proxy-protocol.js';

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  PROXY_V2_SIGNATURE.copy(head, 0);
  head[12] = 0x20 | command;
  head[13] = (family << 4) | 1;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

describe('PROXY protocol v1', () => {
  it.each([
    ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 5000\r\n', { address: '203.0.113.7', port: 51234 }],
    ['PROXY TCP6 2001:db8::1 ::1 4000 5000\r\n', { address: '2001:db8::1', port: 4000 }],
  ])('parses %j', (header, source) => {
    const data = Buffer.concat([Buffer.from(header), Buffer.from([0x16, 0x03])]);
    expect(parseProxyHeader(data)).toEqual({
      status: 'ok',
      version: 1,
      consumed: header.length,
      source,
    });
  });

  it('treats UNKNOWN as "use the socket address"', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({
      status: 'ok',
      version: 1,
      consumed: 15,
    });
  });

  it('waits for more bytes, then gives up past 107 bytes', () => {
    const header = 'PROXY TCP4 203.0.113.7 10.0.0.1 51234 5000\r\n';
    for (let i = 1; i < header.length; i++) {
      expect(parseProxyHeader(Buffer.from(header.slice(0, i))).status).toBe('incomplete');
    }
    expect(parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(120)}`))).toMatchObject({
      status: 'invalid',
    });
  });

  it.each([
    'PROXY TCP4 999.0.0.1 10.0.0.1 1 2\r\n',
    'PROXY TCP4 ::1 10.0.0.1 1 2\r\n',
    'PROXY TCP4 1.2.3.4 10.0.0.1 70000 2\r\n',
    'PROXY TCP4 1.2.3.4 10.0.0.1 01 2\r\n',
    'PROXY UDP4 1.2.3.4 10.0.0.1 1 2\r\n',
    'PROXY TCP4 1.2.3.4\r\n',
    'GET / HTTP/1.1\r\n',
  ])('rejects %j', (header) => {
    expect(parseProxyHeader(Buffer.from(header)).status).toBe('invalid');
  });
});

describe('PROXY protocol v2', () => {
  it('parses TCP over IPv4 and skips TLVs', () => {
    const body = Buffer.from([
      203, 0, 113, 9, 10, 0, 0, 1, 0xc3, 0x50, 0x13, 0x88, 0x04, 0x00, 0x01, 0x00,
    ]);
    const header = v2(1, 1, body);
    expect(parseProxyHeader(Buffer.concat([header, Buffer.from([0x16])]))).toEqual({
      status: 'ok',
      version: 2,
      consumed: header.length,
      source: { address: '203.0.113.9', port: 0xc350 },
    });
  });

  it('parses TCP over IPv6 in RFC 5952 form', () => {
    const body = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000042', 'hex').copy(body, 0);
    body.writeUInt16BE(4242, 32);
    expect(parseProxyHeader(v2(1, 2, body))).toMatchObject({
      source: { address: '2001:db8::42', port: 4242 },
    });
  });

  it('LOCAL command carries no address', () => {
    expect(parseProxyHeader(v2(0, 0, Buffer.alloc(0)))).toEqual({
      status: 'ok',
      version: 2,
      consumed: 16,
    });
  });

  it('is incomplete until the whole block arrived, and bounded', () => {
    const header = v2(1, 1, Buffer.alloc(12));
    for (let i = 1; i < header.length; i++)
      expect(parseProxyHeader(header.subarray(0, i)).status).toBe('incomplete');
    const huge = Buffer.from(header);
    huge.writeUInt16BE(60_000, 14);
    expect(parseProxyHeader(huge)).toMatchObject({ status: 'invalid' });
    const badVersion = Buffer.from(header);
    badVersion[12] = 0x11;
    expect(parseProxyHeader(badVersion)).toMatchObject({ status: 'invalid' });
    expect(parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b]))).toMatchObject({
      status: 'invalid',
    });
  });
});
