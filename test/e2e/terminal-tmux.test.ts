import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLI,
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  spawnServeWith,
} from '../helpers/cli.js';
import { TmuxSession, tmuxAvailable } from '../helpers/tmux.js';

const home = (name: string) => mkdtempSync(join(tmpdir(), `securechat-tty-${name}-`));
const knows = (user: string) => (e: Record<string, unknown>) =>
  (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
  (e.kind === 'users' && (e.users as Array<{ name: string }>).some((u) => u.name === user));

describe.skipIf(!tmuxAvailable())('the interactive client in a real terminal (tmux)', () => {
  let server: ServeProcess | undefined;
  const peers: JsonClient[] = [];
  const terminals: TmuxSession[] = [];

  /** Runs `connect alice` in tmux; the shell prints EXIT=<status> when the client ends. */
  const alice = (port: number, pin: string, extra = '') => {
    const tty = new TmuxSession(
      `node ${CLI} connect alice 127.0.0.1 ${port} --pin ${pin} --home ${home('alice')} ${extra}; echo EXIT=$?; sleep 60`,
      { SECURECHAT_PASSPHRASE: '' },
    );
    terminals.push(tty);
    return tty;
  };
  const bob = (port: number, pin: string) => {
    const client = spawnJsonClient('bob', port, ['--pin', pin]);
    peers.push(client);
    return client;
  };

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill();
    for (const p of peers.splice(0)) p.kill();
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('keeps a half-typed line intact while a message arrives, then sends exactly it', async () => {
    server = await spawnServe();
    const tty = alice(server.port, server.pin);
    await tty.waitFor((s) => s.includes('you are alice'));
    const peer = bob(server.port, server.pin);
    await peer.waitFor(knows('alice'));
    await tty.waitFor((s) => s.includes('bob'), 10_000, 'bob in alice’s view');
    tty.type('/to bob half typed line');
    await tty.waitFor((s) => s.includes('half typed line'));
    peer.send('/to alice incoming while you type');
    await tty.waitFor((s) => s.includes('incoming while you type'));
    expect(tty.lastLine()).toMatch(/> \/to bob half typed line$/);
    tty.press('Enter');
    await peer.waitFor((e) => e.kind === 'message' && e.text === 'half typed line');
  });

  it('reconnects after a server restart and sends the message typed while disconnected', async () => {
    const data = join(home('server'), 'state.db');
    server = await spawnServe(['--data', data]);
    const { port, pin, certPath, keyPath } = server;
    const tty = alice(port, pin);
    await tty.waitFor((s) => s.includes('you are alice'));
    const peer = bob(port, pin);
    await peer.waitFor(knows('alice'));
    await tty.waitFor((s) => /bob/.test(s));
    tty.type('/to bob before the crash');
    tty.press('Enter');
    await peer.waitFor((e) => e.kind === 'message' && e.text === 'before the crash');

    await server.stop('SIGKILL');
    await tty.waitFor((s) => s.includes('reconnecting'), 15_000, 'the reconnecting state');
    tty.type('/to bob typed while offline');
    tty.press('Enter');
    await tty.waitFor((s) => s.includes('queued'));
    server = await spawnServeWith(
      [
        CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--cert',
        certPath,
        '--key',
        keyPath,
        '--data',
        data,
      ],
      certPath,
      {},
      keyPath,
    );
    await peer.waitFor((e) => e.kind === 'message' && e.text === 'typed while offline', 30_000);
    await tty.waitFor(
      (s) => /delivered|stored/.test(s.split('typed while offline').pop() ?? ''),
      15_000,
      'a delivery status',
    );
  });

  it('neutralizes escape sequences from peers before they reach the terminal', async () => {
    server = await spawnServe();
    const tty = alice(server.port, server.pin);
    await tty.waitFor((s) => s.includes('you are alice'));
    const titleBefore = tty.title();
    const peer = bob(server.port, server.pin);
    await peer.waitFor(knows('alice'));
    await tty.waitFor((s) => s.includes('bob'));
    const attacks = [
      'CLEAR\u001b[2J\u001b[H',
      'TITLE\u001b]0;pwned\u0007',
      'LINK\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
      'CLIP\u001b]52;c;ZXZpbA==\u0007',
      'BIDI\u202etxt.exe',
      'CR real text\roverwritten',
      'CSI\u009b31mred',
      'UNFINISHED\u001b]',
    ];
    for (const attack of attacks) peer.send(`/to alice ${attack}`);
    await tty.waitFor((s) => s.includes('UNFINISHED'), 15_000, 'the last attack line');
    const screen = tty.screen();
    const raw = tty.screen(true);
    for (const marker of [
      'you are alice',
      'CLEAR',
      'TITLE',
      'LINK',
      'CLIP',
      'BIDI',
      'CR real text',
      'CSI',
    ]) {
      expect(screen).toContain(marker); // nothing cleared or overwritten
    }
    expect(screen).toContain('^[');
    expect(screen).toContain('\\u{202E}');
    expect(tty.title()).toBe(titleBefore);
    expect(raw).not.toMatch(/\u001b\](0|8|52);/);
    // the only escapes tmux reports are SGR attributes of our own colouring
    expect(raw.replace(/\u001b\[[0-9;]*m/g, '')).not.toContain('\u001b');
  });

  it('completes commands and names with Tab', async () => {
    server = await spawnServe();
    const tty = alice(server.port, server.pin);
    await tty.waitFor((s) => s.includes('you are alice'));
    const peer = bob(server.port, server.pin);
    await peer.waitFor(knows('alice'));
    await tty.waitFor((s) => s.includes('bob'));
    tty.type('/que');
    tty.press('Tab');
    await tty.waitFor(() => tty.lastLine().endsWith('/query'));
    tty.type('b');
    tty.press('Tab');
    await tty.waitFor(() => tty.lastLine().endsWith('/query bob'));
  });

  it.each([
    [
      '/quit',
      (t: TmuxSession) => {
        t.type('/quit');
        t.press('Enter');
      },
    ],
    ['Ctrl-C', (t: TmuxSession) => t.press('C-c')],
    ['Ctrl-D on an empty line', (t: TmuxSession) => t.press('C-d')],
  ])('leaves cleanly with %s (exit 0, terminal restored)', async (_label, leave) => {
    server = await spawnServe();
    const tty = alice(server.port, server.pin);
    await tty.waitFor((s) => s.includes('you are alice'));
    leave(tty);
    await tty.waitFor((s) => s.includes('EXIT='), 10_000, 'the client to exit');
    expect(tty.screen()).toContain('EXIT=0');
  });
});
