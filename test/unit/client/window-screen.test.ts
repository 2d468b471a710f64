/**
 * The terminal side of windows (ui/window-screen.ts) over a real readline on fake streams:
 * what reaches the screen for the window shown and for hidden ones, marks, repaints.
 */
import { createInterface, type Interface } from 'node:readline';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent } from '../../../src/client/events.js';
import { Protection } from '../../../src/client/events.js';
import { WindowScreen } from '../../../src/client/ui/window-screen.js';
import { LOBBY, STATUS_WINDOW, type WindowView } from '../../../src/client/ui/windows.js';

const interfaces: Interface[] = [];
afterEach(() => {
  for (const rl of interfaces.splice(0)) rl.close();
});

function setup() {
  const written: string[] = [];
  const output = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        done();
      },
    }),
    { columns: 80, rows: 24, isTTY: true },
  ) as unknown as NodeJS.WriteStream;
  const input = new PassThrough() as unknown as NodeJS.ReadStream;
  const rl = createInterface({ input, output, terminal: true, prompt: '> ' });
  interfaces.push(rl);
  const screen = new WindowScreen({ output, rl, color: false, self: 'alice' });
  const text = () => written.join('');
  const take = () => written.splice(0).join('');
  return { screen, text, take, rl };
}

const view = (active: string): WindowView => ({
  active,
  isOpen: (key) => [LOBBY, 'bob'].includes(key),
  self: 'alice',
});
const message = (over: Partial<Extract<ClientEvent, { kind: 'message' }>>): ClientEvent => ({
  kind: 'message',
  ts: 0,
  direction: 'in',
  from: 'bob',
  to: 'alice',
  text: 'hi',
  protection: Protection.ratchet,
  ...over,
});

describe('WindowScreen', () => {
  it('prints lines of the window shown, keeps the others for later', () => {
    const { screen, take } = setup();
    screen.adopt(LOBBY);
    screen.show(message({ to: '#lobby', text: 'in the lobby' }), view(LOBBY));
    expect(take()).toContain('in the lobby');
    screen.show(message({ text: 'for alice only' }), view(LOBBY));
    expect(take()).not.toContain('for alice only');
    screen.repaint('bob', '[bob] > ');
    const painted = take();
    expect(painted).toContain('for alice only');
    expect(painted).not.toContain('in the lobby');
    expect(screen.showing).toBe('bob');
  });

  it('a mark in a hidden window is kept silently, a failure is told where the user is', () => {
    const { screen, take } = setup();
    screen.adopt('bob');
    screen.show(
      message({ direction: 'out', from: 'alice', to: 'bob', text: 'ours', id: 'm1' }),
      view('bob'),
    );
    screen.show(
      message({ direction: 'out', from: 'alice', to: 'bob', text: 'second', id: 'm2' }),
      view('bob'),
    );
    screen.repaint(STATUS_WINDOW, '[status] > ');
    take();
    expect(screen.mark({ kind: 'delivery', ts: 0, id: 'm1', to: 'bob', status: 'delivered' })).toBe(
      true,
    );
    expect(take()).toBe('');
    screen.mark({ kind: 'delivery', ts: 0, id: 'm2', to: 'bob', status: 'failed', reason: 'gone' });
    expect(take()).toContain('msg m2 to bob: \u2717 failed: gone');
    screen.repaint('bob', '[bob] > ');
    const painted = take();
    expect(painted).toMatch(/<alice -> bob> ours \u2713\u2713/);
    expect(painted).toMatch(/<alice -> bob> second \u2717 failed: gone/);
    // A message no window holds: the caller shows the status as an event.
    expect(screen.mark({ kind: 'delivery', ts: 0, id: 'zz', to: 'bob', status: 'sent' })).toBe(
      false,
    );
  });

  it('rewrites a visible message row in place', () => {
    const { screen, take } = setup();
    screen.adopt('bob');
    screen.show(
      message({ direction: 'out', from: 'alice', to: 'bob', text: 'ours', id: 'm1' }),
      view('bob'),
    );
    take();
    screen.mark({ kind: 'delivery', ts: 0, id: 'm1', to: 'bob', status: 'sent' });
    const out = take();
    expect(out).toContain('\x1b[2K');
    expect(out).toMatch(/<alice -> bob> ours \u2713/);
    expect(out).not.toContain('msg m1');
  });
});
