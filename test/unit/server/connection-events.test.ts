import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/server/clock.js';
import { ConnectionEvents } from '../../../src/server/connection-events.js';
import { createLogger } from '../../../src/server/logger.js';
import { ServerStats } from '../../../src/server/stats.js';

/** The two things `secured` asks of a TLS socket. */
function tls(protocol: string | null, cipher: { name: string; standardName?: string } | null) {
  return { getProtocol: () => protocol, getCipher: () => cipher } as unknown as TLSSocket;
}

describe('ConnectionEvents.secured', () => {
  it('counts every connection under its own protocol and suite, however they alternate', () => {
    const stats = new ServerStats();
    const events = new ConnectionEvents(
      createLogger({ level: 'silent' }),
      stats,
      systemClock,
      new Set(['10.0.0.9']),
    );
    const aes = { name: 'TLS_AES_256_GCM_SHA384', standardName: 'TLS_AES_256_GCM_SHA384' };
    const chacha = { name: 'ECDHE-RSA-CHACHA20-POLY1305', standardName: 'TLS_ECDHE_X' };
    const remote = { address: '10.0.0.1', port: 1 };
    const sockets = [
      tls('TLSv1.3', aes),
      tls('TLSv1.3', aes),
      tls('TLSv1.2', chacha),
      tls('TLSv1.3', aes),
      tls('TLSv1.2', { name: 'OLD' }),
      tls(null, null),
      tls('TLSv1.2', chacha),
    ];
    for (const socket of sockets) expect(events.secured(socket, remote)).toBe(false);
    expect(events.secured(tls('TLSv1.3', aes), { address: '10.0.0.9', port: 2 })).toBe(true);
    expect(Object.fromEntries(stats.tlsAccepted.values)).toEqual({
      'TLSv1.3|TLS_AES_256_GCM_SHA384': 4,
      'TLSv1.2|TLS_ECDHE_X': 2,
      'TLSv1.2|OLD': 1,
      '?|?': 1,
    });
    expect(stats.connectionsTotal).toBe(8);
  });
});
