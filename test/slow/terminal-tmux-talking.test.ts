/**
 * Issue 15, talking, in a real terminal (tmux): /help is complete, a plain line goes to
 * the public lobby at start, Tab completes rooms, and an over-long message is refused
 * before it is shown or sent (the server announced its line limit).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JsonClient, type ServeProcess, spawnJsonClient, spawnServe } from '../helpers/cli.js';
import { type TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { runInTmux, tempHome } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();
type JsonEvent = Record<string, unknown>;

describe.skipIf(!hasTmux)('talking is obvious (tmux)', { timeout: 45_000 }, () => {
  let server: ServeProcess | undefined;
  const terminals: TmuxSession[] = [];
  const peers: JsonClient[] = [];

  const connect = async (height = 40) => {
    const home = tempHome('talk');
    const tty = runInTmux(
      home,
      ['connect', 'alice', '127.0.0.1', String(server!.port), '--pin', server!.pin, '--home', home],
      { SECURECHAT_PASSPHRASE: '' },
      { height },
    );
    terminals.push(tty);
    await tty.waitFor((s) => s.includes('you joined #lobby'), 15_000, 'the lobby');
    await tty.waitUntil(
      () => (tty.lastLine() === '[#lobby (public)] >' ? true : undefined),
      10_000,
      'the lobby prompt',
    );
    return tty;
  };
  const bob = async () => {
    const client = spawnJsonClient('bob', server!.port, ['--pin', server!.pin]);
    peers.push(client);
    await client.waitFor((e) => e.kind === 'room' && e.event === 'joined');
    return client;
  };

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill();
    for (const p of peers.splice(0)) p.kill();
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('/help lists every command, grouped, down to /quit and the room commands', async () => {
    server = await spawnServe();
    const tty = await connect(70);
    tty.type('/help');
    tty.press('Enter');
    const screen = await tty.waitFor((s) => s.includes('/help <command>'), 10_000, 'the help');
    for (const word of ['Direct messages', 'Rooms', 'Trust', 'Session:', '/join', '/motd', '/quit'])
      expect(screen).toContain(word);
    expect(screen).not.toContain('…');
  });

  it('a plain line at start goes to the public lobby', async () => {
    server = await spawnServe();
    const tty = await connect();
    const peer = await bob();
    tty.type('hello lobby');
    tty.press('Enter');
    const got = await peer.waitFor(
      (e: JsonEvent) => e.kind === 'message' && e.direction === 'in' && e.text === 'hello lobby',
      15_000,
    );
    expect(got.to).toBe('#lobby');
    expect(tty.screen()).not.toContain('no conversation selected');
  });

  it('Tab completes a room name', async () => {
    server = await spawnServe();
    const tty = await connect();
    tty.type('/q #lob');
    tty.press('Tab');
    await tty.waitUntil(
      () => (tty.lastLine() === '[#lobby (public)] > /q #lobby' ? true : undefined),
      10_000,
      'the completed room',
    );
  });

  it('switches windows with /window N and Alt-N; the prompt counts what waits elsewhere', async () => {
    server = await spawnServe();
    const tty = await connect();
    const peer = await bob();
    tty.type('/join #dev');
    tty.press('Enter');
    await tty.waitFor((s) => s.includes('you joined #dev'), 10_000, 'alice in #dev');
    const prompt = (line: string) =>
      tty.waitUntil(() => (tty.lastLine() === line ? true : undefined), 10_000, line);
    await prompt('[#dev] >');
    // Window 1 is the status window, 2 the lobby, 3 #dev.
    tty.press('M-2');
    await prompt('[#lobby (public)] >');
    peer.send('/join #dev');
    await peer.waitFor(
      (e: JsonEvent) => e.kind === 'room' && e.event === 'joined' && e.room === '#dev',
    );
    peer.send('/to #dev alice: are you there?');
    await prompt('[#lobby (public)] +1 #dev (@1) >');
    // #dev's lines stay in #dev's window.
    expect(tty.screen()).not.toContain('are you there');
    tty.type('/window 3');
    tty.press('Enter');
    await prompt('[#dev] >');
    const screen = tty.screen();
    expect(screen).toContain('bob joined #dev');
    expect(screen).toContain('are you there?');
    tty.press('M-1');
    await prompt('[status] >');
  });

  it('/join from a room makes the new room the active window', async () => {
    server = await spawnServe();
    const tty = await connect();
    const prompt = (line: string) =>
      tty.waitUntil(() => (tty.lastLine() === line ? true : undefined), 10_000, line);
    tty.type('/join #dev');
    tty.press('Enter');
    await prompt('[#dev] >');
    tty.type('/join #ops');
    tty.press('Enter');
    await prompt('[#ops] >');
    await tty.waitFor((s) => s.includes('you joined #ops'), 10_000, 'alice in #ops');
  });

  it('refuses an over-long message locally, naming the limit, and stays connected', async () => {
    // Small, but above what the client's own hello and prekey uploads take.
    server = await spawnServe(['--max-line', '16384']);
    const tty = await connect();
    const peer = await bob();
    // Too long for send-keys: pasted from a tmux buffer, one line, like a user's paste.
    const file = join(tempHome('paste'), 'long.txt');
    writeFileSync(file, `/to bob ${'z'.repeat(20_000)}`);
    tty.run('load-buffer', file);
    tty.run('paste-buffer', '-t', tty.target);
    await tty.waitUntil(() => (tty.lastLine().endsWith('zzz') ? true : undefined), 15_000);
    tty.press('Enter');
    const screen = await tty.waitFor(
      (s) => s.includes('not sent: the message is too long'),
      15_000,
      'the refusal',
    );
    expect(screen.replace(/\s+/g, ' ')).toContain('16,384 bytes');
    expect(screen).not.toMatch(/reconnecting|E_FRAME_TOO_LONG/);
    tty.type('/to bob short one');
    tty.press('Enter');
    await peer.waitFor((e: JsonEvent) => e.kind === 'message' && e.text === 'short one', 15_000);
    expect(
      peer.events.filter((e) => e.kind === 'message' && e.direction === 'in').map((e) => e.text),
    ).toEqual(['short one']);
  });
});
