/**
 * The interactive client in a real terminal: `securechat connect` runs inside a detached
 * tmux session (private `-L` socket per test), driven with send-keys and read back with
 * capture-pane, against a real `securechat serve`. Peers are the `--json` client (bob) and,
 * where a message must carry bytes a line-based stdin cannot (CR, LF), an in-process
 * ChatClient (mallory). Every wait polls with a deadline; there are no fixed sleeps.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import {
  CLI,
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  spawnServeWith,
} from '../helpers/cli.js';
import { shellQuote, TmuxSession, tmuxAvailable } from '../helpers/tmux.js';

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
    const chats: TestChat[] = [];
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
    /** Waits until the prompt line (wrapped rows joined) is exactly `line`. */
    const promptIs = (tty: TmuxSession, line: string | RegExp, timeoutMs = 10_000) =>
      tty.waitUntil(
        () => {
          const last = tty.lastLine();
          return (typeof line === 'string' ? last === line : line.test(last)) ? last : undefined;
        },
        timeoutMs,
        `the prompt line ${String(line)}`,
      );
    /** The cursor sits right after the typed text on the prompt line. */
    const expectCursorAtEnd = (tty: TmuxSession, width = 120) => {
      const screen = tty.screen().split('\n');
      let last = screen.length - 1;
      while (last > 0 && screen[last]!.trim() === '') last--;
      const promptRow = screen[last]!;
      expect(tty.cursor()).toEqual({ x: promptRow.length % width, y: last });
    };

    afterEach(async () => {
      for (const t of terminals.splice(0)) t.kill();
      for (const p of peers.splice(0)) p.kill();
      await Promise.all(chats.splice(0).map((c) => c.close().catch(() => undefined)));
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

    it('neutralizes escape sequences and control characters from peers', async () => {
      server = await spawnServe();
      const tty = await connect(server.port, server.pin);
      tty.run('set-option', '-s', 'set-clipboard', 'on'); // OSC 52 would fill a tmux buffer
      tty.run('select-pane', '-t', tty.target, '-T', 'securechat-test-title');
      const mallory = await startChat('mallory', server.port, server.pin);
      chats.push(mallory);
      await tty.waitFor((s) => s.includes('mallory joined ('), 10_000, 'mallory in the lobby');
      await mallory.waitFor((e) => e.kind === 'room' && e.event === 'joined');
      // A room topic is peer text shown in another render path: mallory owns #evil.
      mallory.client.rooms.join('#evil');
      await mallory.waitFor((e) => e.kind === 'room' && e.event === 'joined' && e.room === '#evil');
      mallory.client.rooms.topic('#evil', 'TOPIC\u001b]0;topic-pwned\u0007');
      await mallory.waitFor((e) => e.kind === 'room' && e.event === 'topic');
      tty.type('/join #evil');
      tty.press('Enter');
      await tty.waitFor(
        (s) => s.includes('you joined #evil') && s.includes('topic: TOPIC^[]0;topic-pwned^G'),
        10_000,
        'alice in #evil, its topic',
      );
      // Direct messages show in mallory's window (window 4: status, #lobby, #evil, mallory).
      tty.type('/query mallory');
      tty.press('Enter');
      await promptIs(tty, '[mallory] >');
      tty.type('draft in progress');
      await promptIs(tty, /^\[mallory\] > draft in progress$/);

      const attacks: Array<[string, string]> = [
        ['CLEAR\u001b[2J\u001b[3J\u001b[H', 'CLEAR^[[2J^[[3J^[[H'],
        ['TITLE\u001b]0;pwned\u0007', 'TITLE^[]0;pwned^G'],
        ['TITLE2\u001b]2;pwned2\u001b\\', 'TITLE2^[]2;pwned2^[\\'],
        [
          'LINK\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
          'LINK^[]8;;https://evil.example/^[\\click^[]8;;^[\\',
        ],
        ['CLIP\u001b]52;c;ZXZpbA==\u0007', 'CLIP^[]52;c;ZXZpbA==^G'],
        ['REPORT\u001b[21t', 'REPORT^[[21t'],
        ['BIDI\u202Etxt.exe', 'BIDI\\u{202E}txt.exe'],
        ['CR real text\roverwritten', 'CR real text^Moverwritten'],
        ['LF one\nLF two', 'LF one'],
        ['C1\u009b31mred\u009c', 'C1\\u{009B}31mred\\u{009C}'],
        ['BS\b\b\bDEL\u007fNUL\u0000', 'BS^H^H^HDEL^?NUL^@'],
        ['UNFINISHED\u001b]', 'UNFINISHED^[]'],
        ['AFTER the unfinished one', 'AFTER the unfinished one'],
      ];
      for (const [text] of attacks) {
        expect(mallory.client.sendDirect('alice', text).ok).toBe(true);
      }
      expect(mallory.client.sendDirect('alice', 'ACTION\u001b[2J', { action: true }).ok).toBe(true);
      await tty.waitFor(
        (s) => s.includes('AFTER the unfinished one'),
        15_000,
        'every attack rendered',
      );
      await tty.waitFor((s) => s.includes('ACTION^[[2J'), 10_000, 'the action');

      const screen = tty.screen();
      const joined = tty.rows({ joined: true });
      expect(screen).toContain('now talking to mallory'); // not cleared
      for (const [, shown] of attacks) {
        expect(joined.some((row) => row.includes(`<mallory> ${shown}`))).toBe(true);
      }
      expect(joined.some((row) => row.endsWith('<mallory> UNFINISHED^[]'))).toBe(true);
      expect(screen).toContain('LF two'); // a line break in a message stays inside it
      expect(tty.title()).toBe('securechat-test-title');
      expect(tty.run('list-buffers')).toBe(''); // no OSC 52 clipboard write
      const raw = tty.screen({ escapes: true });
      expect(raw).not.toMatch(/\u001b\]/); // no OSC at all
      // the only escapes tmux reports are the SGR attributes of our own colouring
      expect(raw.replace(/\u001b\[[0-9;:]*m/g, '')).not.toContain('\u001b');
      expect(tty.lastLine()).toMatch(/ > draft in progress$/); // nothing typed into the input
      expectCursorAtEnd(tty);

      // A room line in the lobby: counted in the prompt, neutralized in the lobby's window.
      expect(mallory.client.rooms.send('#lobby', 'ROOM\u001b]0;room-pwned\u0007', false).ok).toBe(
        true,
      );
      await promptIs(tty, '[mallory] +1 #lobby > draft in progress');
      tty.press('M-2');
      await promptIs(tty, '[#lobby (public)] > draft in progress');
      expect(tty.screen()).toContain('ROOM^[]0;room-pwned^G');
      expect(tty.title()).toBe('securechat-test-title');
      expect(tty.screen({ escapes: true }).replace(/\u001b\[[0-9;:]*m/g, '')).not.toContain(
        '\u001b',
      );
      expectCursorAtEnd(tty);
    });

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
