/**
 * The interactive client in a real terminal: `securechat connect` runs inside a detached
 * tmux session (private `-L` socket per test), driven with send-keys and read back with
 * capture-pane, against a real `securechat serve`. Peers are the `--json` client (bob);
 * peer text with escape sequences is in terminal-tmux-escapes.test.ts. Every wait polls
 * with a deadline; there are no fixed sleeps.
 */
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
import { shellQuote, TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { expectCursorAtEnd, promptIs } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();
if (!hasTmux) {
  console.warn('terminal-tmux: skipped, tmux is not installed (.ci/run installs it from Debian)');
}

const home = (name: string) => mkdtempSync(join(tmpdir(), `securechat-tty-${name}-`));
type JsonEvent = Record<string, unknown>;
const knows = (user: string) => (e: JsonEvent) =>
  (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
  (e.kind === 'users' &&
    e.room === undefined &&
    (e.users as Array<{ name: string }>).some((u) => u.name === user));
const received = (text: string) => (e: JsonEvent) =>
  e.kind === 'message' && e.direction === 'in' && e.text === text;
const isSubsequence = (small: string[], big: string[]) => {
  let i = 0;
  for (const row of big) if (i < small.length && row === small[i]) i++;
  return i === small.length;
};

/** What the pane's shell prints after the client ends: its exit status and the tty modes. */
const AFTER_EXIT = [
  'code=$?',
  'after=$(stty -g)',
  'if [ "$before" = "$after" ]; then echo TTY=restored; else echo TTY=changed; fi',
  `echo "MODES=$(stty -a | tr -s ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig|icrnl|opost)' | tr '\\n' ' ')"`,
  'echo EXIT=$code',
  'exec sleep 120',
].join('; ');

describe.skipIf(!hasTmux)(
  hasTmux
    ? 'the interactive client in a real terminal (tmux)'
    : 'the interactive client in a real terminal (tmux) — skipped: tmux is not installed',
  { timeout: 45_000 },
  () => {
    let server: ServeProcess | undefined;
    const peers: JsonClient[] = [];
    const terminals: TmuxSession[] = [];

    /**
     * Runs `securechat connect <user>` in a fresh tmux session and waits for its banner.
     * The shell records the tty modes before and prints them with the exit status after.
     */
    const connect = async (port: number, pin: string, user = 'alice') => {
      const dir = home(user);
      const command = [
        process.execPath,
        CLI,
        'connect',
        user,
        '127.0.0.1',
        String(port),
        '--pin',
        pin,
        '--home',
        dir,
      ]
        .map(shellQuote)
        .join(' ');
      const tty = new TmuxSession(
        `cd ${shellQuote(dir)}; before=$(stty -g); ${command}; ${AFTER_EXIT}`,
        { env: { SECURECHAT_PASSPHRASE: '' } },
      );
      terminals.push(tty);
      await tty.waitFor((s) => s.includes(`you are ${user}`), 15_000, `${user}'s banner`);
      return tty;
    };
    const bob = async (port: number, pin: string, tty: TmuxSession) => {
      const client = spawnJsonClient('bob', port, ['--pin', pin]);
      peers.push(client);
      await client.waitFor(knows('alice'));
      await tty.waitFor((s) => s.includes('--> bob joined ('), 10_000, 'bob joining on screen');
      return client;
    };
    afterEach(async () => {
      for (const t of terminals.splice(0)) t.kill();
      for (const p of peers.splice(0)) p.kill();
      await server?.stop('SIGKILL');
      server = undefined;
    });

    it('keeps a half-typed line intact while messages arrive, then sends exactly it', async () => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      const peer = await bob(server.port, server.pin, tty);

      // bob's window shows his messages (the lobby would only count them).
      tty.type('/query bob');
      tty.press('Enter');
      await promptIs(tty, '[bob] >');
      tty.type('half typed line');
      await promptIs(tty, '[bob] > half typed line');
      peer.send('/to alice incoming while you type');
      await tty.waitFor((s) => s.includes('incoming while you type'), 10_000, 'the message');
      await promptIs(tty, '[bob] > half typed line');
      let rows = tty.rows();
      expect(rows.at(-2)).toMatch(/\[e2ee:pq\] <bob> incoming while you type$/);
      expect(rows.filter((r) => r.includes('half typed line'))).toHaveLength(1);
      expectCursorAtEnd(tty);

      for (const n of [1, 2, 3]) peer.send(`/to alice burst ${n}`);
      await tty.waitFor((s) => s.includes('burst 3'), 10_000, 'the burst');
      await promptIs(tty, '[bob] > half typed line');
      rows = tty.rows();
      expect(rows.slice(-4, -1).map((r) => r.replace(/^\[[\d:]+\] /, ''))).toEqual([
        '[e2ee:pq] <bob> burst 1',
        '[e2ee:pq] <bob> burst 2',
        '[e2ee:pq] <bob> burst 3',
      ]);
      expect(rows.filter((r) => r.includes('half typed line'))).toHaveLength(1);
      expectCursorAtEnd(tty);

      tty.press('Enter');
      await peer.waitFor(received('half typed line'));
      await promptIs(tty, '[bob] >');
      const fromAlice = peer.events.filter((e) => e.kind === 'message' && e.direction === 'in');
      expect(fromAlice.map((e) => e.text)).toEqual(['half typed line']);
    });

    it('keeps a half line that wraps, and every line above it, when messages arrive', async () => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      const peer = await bob(server.port, server.pin, tty);

      tty.type('/query bob');
      tty.press('Enter');
      await promptIs(tty, '[bob] >');
      const half = `${'w'.repeat(130)} END`; // 8 + 134 columns: two rows
      tty.type(half);
      await promptIs(tty, `[bob] > ${half}`);
      expect(tty.rows().at(-1)).toBe(`${'w'.repeat(130 - (120 - 8))} END`);
      const before = tty.rows({ joined: true }).slice(0, -1);

      peer.send('/to alice first while wrapped');
      peer.send('/to alice second while wrapped');
      await tty.waitFor((s) => s.includes('second while wrapped'), 10_000, 'both messages');
      await promptIs(tty, `[bob] > ${half}`);
      const after = tty.rows({ joined: true });
      expect(isSubsequence(before, after)).toBe(true); // nothing above was erased
      const messages = after.filter((r) => /<bob> (first|second) while wrapped$/.test(r));
      expect(messages).toHaveLength(2);
      expect(after.slice(-3, -1)).toEqual(messages); // right above the prompt, in order
      expectCursorAtEnd(tty);

      tty.press('Enter');
      await peer.waitFor(received(`${'w'.repeat(130)} END`));
    });

    it('shows (reconnecting Ns) after a server kill, queues what is typed, delivers it after a restart', async () => {
      // A file store so the mailbox survives the restart, whichever client comes back first.
      const data = join(home('server'), 'state.db');
      server = await spawnServe(['--data', data]);
      const { port, pin, certPath, keyPath } = server;
      const tty = await connect(port, pin);
      const peer = await bob(port, pin, tty);
      tty.type('/to bob before the crash');
      tty.press('Enter');
      await peer.waitFor(received('before the crash'));

      await server.stop('SIGKILL');
      await promptIs(tty, /^\[#lobby \(public\)\] \(reconnecting \d+s\) >$/, 15_000);
      tty.type('/to bob queued hello');
      tty.press('Enter');
      await tty.waitFor(
        (s) => /<alice -> bob> queued hello … queued$/m.test(s),
        10_000,
        'the queued mark on the message line',
      );
      expect(tty.lastLine()).toMatch(/^\[#lobby \(public\)\] \((re)?connecting( \d+s)?\) >$/);
      // The prompt counts down to the next attempt. Each new wait starts at least as high as
      // the one before (exponential backoff), so a reading followed by a lower one is a count.
      let previous = Number.POSITIVE_INFINITY;
      await tty.waitUntil(
        () => {
          const n = Number(/\(reconnecting (\d+)s\)/.exec(tty.lastLine())?.[1] ?? Number.NaN);
          if (Number.isNaN(n)) return undefined;
          if (n < previous && previous !== Number.POSITIVE_INFINITY) return n;
          previous = n;
          return undefined;
        },
        15_000,
        'the reconnect countdown',
      );

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
      expect(server.pin).toBe(pin);
      // Backoff is at most a few seconds here; both clients come back on their own.
      await peer.waitFor(received('queued hello'), 30_000);
      // Delivered, or stored and then (bob fetching it) delivered as the server reports.
      const status =
        /(<alice -> bob> queued hello|msg \S+ to bob:) (✓✓|⌛ stored)( fetched, says the server)?$/m;
      await tty.waitFor((s) => status.test(s), 15_000, 'a delivery mark for the queued message');
      await promptIs(tty, '[#lobby (public)] >', 15_000);
      const screen = tty.screen();
      expect(screen).not.toContain('✗ failed');
      expect(screen).not.toMatch(/E_NAME_TAKEN|E_NAME_BOUND|E_REPLACED/);
      expect(peer.events.filter(received('queued hello'))).toHaveLength(1);
      expect(tty.screen()).not.toContain('EXIT=');
    }, 60_000);

    it('completes commands and names with Tab', async () => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      const peer = await bob(server.port, server.pin, tty);
      tty.type('/que');
      tty.press('Tab');
      await promptIs(tty, '[#lobby (public)] > /query');
      expect(tty.cursor().x).toBe('[#lobby (public)] > /query '.length); // with the space
      tty.type('b');
      tty.press('Tab');
      await promptIs(tty, '[#lobby (public)] > /query bob');
      tty.press('Enter');
      await promptIs(tty, '[bob] >');
      expect(tty.screen()).toContain('now talking to bob');
      tty.type('plain line to the current peer');
      tty.press('Enter');
      await peer.waitFor(received('plain line to the current peer'));
    });

    it('asks before sending a multi-line paste, and keeps the question on screen when a message arrives', async () => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      const peer = await bob(server.port, server.pin, tty);
      tty.type('/query bob');
      tty.press('Enter');
      await promptIs(tty, '[bob] >');
      tty.press('/to bob pasted one', 'Enter', '/to bob pasted two', 'Enter');
      const question = /You pasted 2 lines\. .*\[m\/s\/d\]$/;
      await promptIs(tty, question);
      peer.send('/to alice during the question');
      await tty.waitFor((s) => s.includes('<bob> during the question'));
      await promptIs(tty, question);
      tty.type('s');
      tty.press('Enter');
      await peer.waitFor(received('pasted two'));
      const texts = peer.events
        .filter((e) => e.kind === 'message' && e.direction === 'in')
        .map((e) => e.text);
      expect(texts).toEqual(['pasted one', 'pasted two']);
    });

    const leaves: Array<[string, (t: TmuxSession) => Promise<void> | void]> = [
      [
        '/quit',
        (t) => {
          t.type('/quit');
          t.press('Enter');
        },
      ],
      ['Ctrl-C', (t) => t.press('C-c')],
      [
        'Ctrl-C with a half-typed line',
        async (t) => {
          t.type('never sent');
          await promptIs(t, '[#lobby (public)] > never sent');
          t.press('C-c');
        },
      ],
      [
        'Ctrl-D on an empty line (not on a non-empty one)',
        async (t) => {
          t.type('x');
          await promptIs(t, '[#lobby (public)] > x');
          t.press('C-a', 'C-d'); // deletes the x: the line was not empty, the client stays
          await promptIs(t, '[#lobby (public)] >');
          t.press('C-d');
        },
      ],
    ];
    it.each(leaves)('leaves cleanly with %s: exit 0, terminal restored', async (_label, leave) => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      await promptIs(tty, '[#lobby (public)] >');
      await leave(tty);
      const screen = await tty.waitFor((s) => s.includes('EXIT='), 10_000, 'the client to exit');
      expect(screen).toContain('EXIT=0');
      expect(screen).toContain('TTY=restored');
      const modes = /MODES=(.*)/.exec(screen)?.[1]?.trim().split(' ').sort();
      expect(modes).toEqual(['echo', 'icanon', 'icrnl', 'isig', 'opost']); // cooked, echoing
      expect(tty.format('#{cursor_flag} #{alternate_on}')).toBe('1 0');
    });

    it('exits with the refusal code, not a hang at a dead prompt, when the server refuses the name', async () => {
      server = await spawnServe();
      const first = await connect(server.port, server.pin);
      await promptIs(first, '[#lobby (public)] >');
      // Another identity key asks for the same name: refused, the client must exit on its own.
      const tty = await connect(server.port, server.pin);
      const screen = await tty.waitFor((s) => s.includes('EXIT='), 10_000, 'the client to exit');
      expect(screen).toMatch(/E_NAME_(TAKEN|BOUND)/);
      expect(screen).toContain('EXIT=4');
      expect(screen).toContain('TTY=restored');
    });
  },
);
