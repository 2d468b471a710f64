import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/server/logger.js';
import { SessionLog } from '../../../src/server/session-log.js';
import { LogSink } from '../../helpers/log-sink.js';

function setup(level: string, budget = { burst: 2, perMinute: 60 }) {
  const sink = new LogSink();
  const logger = createLogger({ level, destination: sink });
  const child = vi.spyOn(logger, 'child');
  let now = 1_000;
  const log = new SessionLog(logger, budget, () => now, { sid: 'a1', remote: '127.0.0.1:5' });
  return { sink, child, log, advance: (ms: number) => (now += ms) };
}

describe('SessionLog', () => {
  it('debugEnabled follows the logger level, also when it changes at run time', () => {
    for (const [level, enabled] of [
      ['trace', true],
      ['debug', true],
      ['info', false],
      ['warn', false],
      ['silent', false],
    ] as const)
      expect(setup(level).log.debugEnabled, level).toBe(enabled);
    const sink = new LogSink();
    const logger = createLogger({ level: 'info', destination: sink });
    const log = new SessionLog(logger, { burst: 5, perMinute: 5 }, () => 0);
    expect(log.debugEnabled).toBe(false);
    logger.level = 'debug';
    expect(log.debugEnabled).toBe(true);
    logger.level = 'error';
    expect(log.debugEnabled).toBe(false);
  });

  it('makes no child logger while nothing reaches the configured level', () => {
    const { sink, child, log } = setup('warn');
    log.info({ event: 'connection.opened' });
    log.bind({ user: 'alice' });
    log.info({ event: 'hello.accepted' });
    log.debug({ event: 'relay.routed' });
    log.info({ event: 'connection.closed' });
    expect(child).not.toHaveBeenCalled();
    expect(sink.lines).toEqual([]);
    expect(log.suppressed).toEqual({ general: 0, security: 0 });
  });

  it('writes its bindings (and the ones bound before the first line) on every line', () => {
    const { sink, child, log } = setup('info');
    log.bind({ user: 'alice' });
    log.warn({ event: 'frame.rejected', code: 'E_BAD_FIELD' }, 'bad field');
    log.info({ event: 'hello.accepted' });
    expect(child).toHaveBeenCalledTimes(1);
    const records = sink.records;
    expect(records).toHaveLength(2);
    for (const record of records)
      expect(record).toMatchObject({ sid: 'a1', remote: '127.0.0.1:5', user: 'alice' });
    // Bound after the first line: later lines carry it too.
    log.bind({ room: 'r' });
    log.info({ event: 'x' });
    expect(sink.records[2]).toMatchObject({ sid: 'a1', user: 'alice', room: 'r' });
  });

  it('without bindings logs through the logger it was given', () => {
    const sink = new LogSink();
    const logger = createLogger({ level: 'info', destination: sink });
    const child = vi.spyOn(logger, 'child');
    const log = new SessionLog(logger, { burst: 5, perMinute: 5 }, () => 0);
    log.info({ event: 'x' });
    expect(child).not.toHaveBeenCalled();
    expect(sink.records).toHaveLength(1);
  });

  it('keeps one budget for ordinary lines and one for security events, counting what it holds back', () => {
    const { sink, log, advance } = setup('info');
    for (let i = 0; i < 4; i++) log.info({ event: 'ordinary' });
    for (let i = 0; i < 3; i++) log.warn({ event: 'frame.rejected' });
    log.info({ event: 'connection.closed' }); // always written
    expect(sink.events('ordinary')).toHaveLength(2);
    expect(sink.events('frame.rejected')).toHaveLength(2);
    expect(sink.events('connection.closed')).toHaveLength(1);
    expect(log.suppressed).toEqual({ general: 2, security: 1 });
    advance(1_000); // 60 a minute: one more line a second
    log.info({ event: 'ordinary' });
    log.info({ event: 'ordinary' });
    expect(sink.events('ordinary')).toHaveLength(3);
    expect(log.suppressed).toEqual({ general: 3, security: 1 });
  });

  it('a budget first used late starts full, as one made at connect time would be', () => {
    const { sink, log, advance } = setup('info');
    advance(3_600_000);
    for (let i = 0; i < 3; i++) log.info({ event: 'ordinary' });
    expect(sink.events('ordinary')).toHaveLength(2);
  });
});
