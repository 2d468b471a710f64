/**
 * Issue 19 in a real terminal (tmux): an offer is shown with its size and how to take it,
 * `/accept` downloads it with a progress bar (rate and time left once it has run for a
 * second) and says where the file was saved; the sender sees its own upload progress.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type JsonClient, type ServeProcess, spawnJsonClient, spawnServe } from '../helpers/cli.js';
import { type TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { runInTmux, tempHome } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();
const BAR = /\[[#-]{20}\] \d{1,3}%/;

describe.skipIf(!hasTmux)('file transfer in a terminal (tmux)', { timeout: 90_000 }, () => {
  let server: ServeProcess | undefined;
  const terminals: TmuxSession[] = [];
  const peers: JsonClient[] = [];
  let dir = '';

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill();
    for (const p of peers.splice(0)) p.kill();
    await server?.stop('SIGKILL');
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the offer, /accept downloads with a progress bar, and says where it went', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-tty-files-'));
    server = await spawnServe(['--files-dir', join(dir, 'store')]);
    const home = tempHome('files');
    const downloads = join(dir, 'dl');
    const tty = runInTmux(
      home,
      [
        'connect',
        'bob',
        '127.0.0.1',
        String(server.port),
        '--pin',
        server.pin,
        '--home',
        home,
        '--downloads',
        downloads,
      ],
      { SECURECHAT_PASSPHRASE: '' },
      { width: 160, height: 50 },
    );
    terminals.push(tty);
    await tty.waitFor((s) => s.includes('you joined #lobby'), 20_000, 'the lobby');
    const alice = spawnJsonClient('alice', server.port, ['--pin', server.pin]);
    peers.push(alice);
    await alice.waitFor((e) => e.kind === 'users');
    const body = Buffer.alloc(24 * 1024 * 1024, 'data ');
    const path = join(dir, 'big report.pdf');
    writeFileSync(path, body);
    alice.send(`/send bob ${path}`);
    const offered = await tty.waitFor(
      (s) => /alice offers big report\.pdf, 25\.2 MB: \/accept [0-9a-f]{6} or \/reject/.test(s),
      60_000,
      'the offer',
    );
    expect(offered).toContain('alice offers big report.pdf, 25.2 MB');
    // The sender's upload reported progress too (JSON here).
    expect(alice.events.some((e) => e.kind === 'transfer' && e.direction === 'up')).toBe(true);
    tty.type('/accept');
    tty.press('Enter');
    const screen = await tty.waitFor((s) => s.includes('saved to'), 60_000, 'the saved file');
    expect(screen).toMatch(BAR);
    expect(screen).toContain(`saved to ${join(downloads, 'big report.pdf')} (digest checked)`);
    expect(readFileSync(join(downloads, 'big report.pdf')).equals(body)).toBe(true);
    const up = alice.events.filter((e) => e.kind === 'transfer' && e.direction === 'up');
    expect(up.some((e) => e.phase === 'done')).toBe(true);
  });
});
