import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installCrashGuard } from '../../../src/server/crash-guard.js';
import { createLogger } from '../../../src/server/logger.js';
import { ServerStats } from '../../../src/server/stats.js';
import { LogSink } from '../../helpers/log-sink.js';

describe('process-level crash guard', () => {
  it('logs an escaped error with its stack, counts it, and keeps the process', () => {
    const process = new EventEmitter();
    const logs = new LogSink();
    const security = new LogSink();
    const stats = new ServerStats();
    const clock = { now: 0 };
    installCrashGuard(
      process,
      createLogger({ destination: logs, securityDestination: security }),
      stats,
      () => clock.now,
    );
    process.emit('unhandledRejection', new Error('a promise nobody awaited'));
    process.emit('uncaughtException', new Error('a throw in a callback'));
    process.emit('uncaughtException', new Error('again'));
    clock.now = 10_000;
    process.emit('uncaughtException', new Error('later'));
    const records = logs.events('process.error');
    expect(records.map((r) => r.kind)).toEqual([
      'unhandled_rejection',
      'uncaught_exception',
      'uncaught_exception',
    ]);
    expect(String((records[0]!.err as { stack: string }).stack)).toContain(
      'a promise nobody awaited',
    );
    expect(records[2]!.suppressed).toBe(1);
    expect(stats.internalErrors.get('uncaught_exception')).toBe(3);
    expect(security.events('process.error')).toHaveLength(3); // the security stream has them too
  });
});

describe('security log stream', () => {
  it('receives security events only', () => {
    const logs = new LogSink();
    const security = new LogSink();
    const logger = createLogger({ destination: logs, securityDestination: security });
    logger.info({ event: 'chat', textPrefix: 'hi' });
    logger.warn({ event: 'name.takeover_attempt', user: 'alice', note: '"event":"chat"' });
    logger.info({ event: 'connection.opened' });
    expect(logs.lines).toHaveLength(3);
    expect(security.records.map((r) => r.event)).toEqual(['name.takeover_attempt']);
  });
});
