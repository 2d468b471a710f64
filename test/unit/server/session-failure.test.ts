import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/server/logger.js';
import { answerFailure } from '../../../src/server/session-failure.js';
import { SessionLog } from '../../../src/server/session-log.js';
import { ServerStats } from '../../../src/server/stats.js';
import { LogSink } from '../../helpers/log-sink.js';

function session(open = true) {
  const sink = new LogSink();
  const replies: Array<Record<string, unknown>> = [];
  return {
    sink,
    replies,
    target: {
      open,
      log: new SessionLog(
        createLogger({ level: 'info', destination: sink }),
        { burst: 9, perMinute: 9 },
        () => 0,
      ),
      reply: (line: string) => replies.push(JSON.parse(line)) > 0,
    },
  };
}

describe('answerFailure', () => {
  it('a bug: E_INTERNAL with the ref, logged with the error, counted, reported as internal', () => {
    const { sink, replies, target } = session();
    const stats = new ServerStats();
    expect(answerFailure(target, stats, new TypeError('boom'), 'r1')).toBe(true);
    expect(replies).toEqual([
      expect.objectContaining({ type: 'error', code: 'E_INTERNAL', ref: 'r1' }),
    ]);
    expect(stats.internalErrors.get('session')).toBe(1);
    expect(sink.events('internal_error')).toHaveLength(1);
  });

  it('the shared store unreachable: E_BUSY (try again), not an internal error', () => {
    const { sink, replies, target } = session();
    const stats = new ServerStats();
    const down = new Error('Connection is closed.');
    expect(answerFailure(target, stats, down, 'r2')).toBe(false);
    expect(replies).toEqual([expect.objectContaining({ code: 'E_BUSY', ref: 'r2' })]);
    expect(stats.internalErrors.get('store_unavailable')).toBe(1);
    expect(stats.internalErrors.get('session')).toBe(0);
    expect(sink.events('store.unavailable')).toHaveLength(1);
  });

  it('a closed session is counted and logged but not answered', () => {
    const { replies, target } = session(false);
    const stats = new ServerStats();
    expect(answerFailure(target, stats, new Error('late'), undefined)).toBe(false);
    expect(answerFailure(target, stats, new Error('ECONNREFUSED'), undefined)).toBe(false);
    expect(replies).toEqual([]);
    expect(stats.internalErrors.total).toBe(2);
  });
});
