/** Issue 15, operator: `stats` with a 24-hour clock and no "quit" line for --once; pretty logs on one line. */
import { Writable } from 'node:stream';
import pino from 'pino';
import pinoPretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';
import { PRETTY_OPTIONS } from '../../../src/server/logger.js';
import { snapshotFrom } from '../../../src/stats/snapshot.js';
import { renderStats } from '../../../src/stats/view.js';
import { until } from '../../helpers/until.js';

describe('stats view', () => {
  const snapshot = {
    ...snapshotFrom([], 0),
    at: new Date(2026, 10, 30, 15, 4, 5).getTime(),
  };
  const history = { messagesPerSecond: [], connections: [] };
  it('uses a 24-hour clock', () => {
    const [first] = renderStats('u', snapshot, undefined, history, false);
    expect(first).toContain('15:04:05');
    expect(first).not.toMatch(/[AP]M/);
  });
  it('says how to quit only when live', () => {
    expect(renderStats('u', snapshot, undefined, history, false).join('\n')).toContain(
      'q or Ctrl-C to quit',
    );
    const once = renderStats('u', snapshot, undefined, history, false, { live: false });
    expect(once.join('\n')).not.toContain('quit');
  });
});

describe('pretty logs', () => {
  it('print one line per event, led by the event name', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        out += chunk.toString();
        done();
      },
    });
    const logger = pino(pinoPretty({ ...PRETTY_OPTIONS, colorize: false, destination: sink }));
    logger.info({ event: 'connection.closed', address: '127.0.0.1', bytes: 12 });
    logger.info({ event: 'hello.accepted', v: 2 }, 'welcome');
    await until(() => out.trimEnd().split('\n').length >= 2, 5000);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/connection\.closed .*address.*127\.0\.0\.1/);
    expect(lines[1]).toMatch(/hello\.accepted welcome/);
  });
});
