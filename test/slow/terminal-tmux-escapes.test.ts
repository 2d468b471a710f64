/**
 * Peer text in a real terminal (tmux): escape sequences and control characters from a
 * hostile peer (an in-process ChatClient, mallory, so a message can carry bytes a
 * line-based stdin cannot) are shown neutralized in every render path: direct messages,
 * actions, a room line and a room topic. Nothing clears the screen, sets the title,
 * writes the clipboard or types into the input line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startChat, type TestChat } from '../helpers/chat-clients.js';
import { type ServeProcess, spawnServe } from '../helpers/cli.js';
import { type TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { expectCursorAtEnd, promptIs, runInTmux, tempHome } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();

describe.skipIf(!hasTmux)(
  'hostile peer text in a real terminal (tmux)',
  { timeout: 45_000 },
  () => {
    let server: ServeProcess | undefined;
    const chats: TestChat[] = [];
    const terminals: TmuxSession[] = [];

    const connect = async (port: number, pin: string) => {
      const home = tempHome('escapes');
      const tty = runInTmux(
        home,
        ['connect', 'alice', '127.0.0.1', String(port), '--pin', pin, '--home', home],
        { SECURECHAT_PASSPHRASE: '' },
      );
      terminals.push(tty);
      await tty.waitFor((s) => s.includes('you are alice'), 15_000, "alice's banner");
      return tty;
    };

    afterEach(async () => {
      for (const t of terminals.splice(0)) t.kill();
      await Promise.all(chats.splice(0).map((c) => c.close().catch(() => undefined)));
      await server?.stop('SIGKILL');
      server = undefined;
    });

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
  },
);
