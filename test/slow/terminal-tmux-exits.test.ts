/**
 * Issue 15, exits and prompts, in a real terminal (tmux): Ctrl-C aborts every question
 * before a session (exit 130, nothing counted, nothing left behind), `--no-reconnect`
 * exits when the link drops, a refused pin is reported once and legibly, arguments are
 * checked before a key is made, and a key nobody accepted is not left behind.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentity } from '../../src/client/identity/keystore.js';
import { type ServeProcess, spawnServe } from '../helpers/cli.js';
import { type TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { exitOf, runInTmux, tempHome } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();
const FAST_KDF = { N: 2 ** 10, r: 8, p: 1 } as const;
const keyFile = (home: string, user = 'alice') => join(home, 'identities', `${user}.json`);

describe.skipIf(!hasTmux)('exits and prompts (tmux)', { timeout: 45_000 }, () => {
  let server: ServeProcess | undefined;
  const terminals: TmuxSession[] = [];
  const run = (home: string, args: string[], env: Record<string, string> = {}) => {
    const tty = runInTmux(home, ['connect', ...args, '--home', home], env);
    terminals.push(tty);
    return tty;
  };

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill();
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('Ctrl-C at the new-passphrase question exits 130 and creates no key', async () => {
    server = await spawnServe();
    const home = tempHome('pass-new');
    const tty = run(home, ['alice', '127.0.0.1', String(server.port), '--pin', server.pin]);
    await tty.waitFor((s) => s.includes('Passphrase to protect it'), 15_000, 'the question');
    tty.press('C-c');
    expect(await exitOf(tty)).toBe(130);
    expect(tty.screen()).toContain('TTY=restored');
    expect(existsSync(keyFile(home))).toBe(false);
  });

  it('Ctrl-C at the passphrase of an existing key exits 130, not a wrong attempt', async () => {
    server = await spawnServe();
    const home = tempHome('pass-old');
    createIdentity(home, 'alice', 'correct horse', FAST_KDF);
    const tty = run(home, ['alice', '127.0.0.1', String(server.port), '--pin', server.pin]);
    await tty.waitFor((s) => s.includes("Passphrase for alice's identity key"), 15_000);
    tty.type('half');
    tty.press('C-c');
    expect(await exitOf(tty)).toBe(130);
    const screen = tty.screen();
    expect(screen).not.toContain('Wrong passphrase');
    expect(screen).not.toContain('half'); // never echoed
    expect(screen).toContain('TTY=restored');
    expect(existsSync(keyFile(home))).toBe(true); // an existing key is never touched
  });

  it('Ctrl-C at the trust [y/N] question exits 130', async () => {
    server = await spawnServe();
    const home = tempHome('trust');
    const tty = run(home, ['alice', '127.0.0.1', String(server.port)], {
      SECURECHAT_PASSPHRASE: '',
    });
    await tty.waitFor((s) => s.includes('[y/N]'), 15_000, 'the trust question');
    tty.press('C-c');
    expect(await exitOf(tty)).toBe(130);
    expect(tty.screen()).toContain('TTY=restored');
    expect(existsSync(join(home, 'known-servers.json'))).toBe(false);
  });

  it('--no-reconnect exits with code 1 when the server goes away', async () => {
    server = await spawnServe();
    const home = tempHome('noreconnect');
    const tty = run(
      home,
      ['alice', '127.0.0.1', String(server.port), '--pin', server.pin, '--no-reconnect'],
      { SECURECHAT_PASSPHRASE: '' },
    );
    await tty.waitFor((s) => s.includes('you joined #lobby'), 15_000, 'the welcome');
    await server.stop('SIGKILL');
    server = undefined;
    expect(await exitOf(tty)).toBe(1);
    expect(tty.screen()).toContain('TTY=restored');
    expect(existsSync(keyFile(home))).toBe(true); // it was accepted once: kept
  });

  it('a wrong port says what to check, and the key it just made is removed', async () => {
    server = await spawnServe();
    const { pin } = server;
    await server.stop('SIGKILL'); // nothing listens on that port now
    const port = server.port;
    server = undefined;
    const home = tempHome('wrongport');
    const tty = run(home, ['alice', '127.0.0.1', String(port), '--pin', pin, '--no-reconnect'], {
      SECURECHAT_PASSPHRASE: '',
    });
    expect(await exitOf(tty)).toBe(1);
    const screen = tty.screen().replace(/\s+/g, ' ');
    expect(screen).toContain('ECONNREFUSED');
    expect(screen).toContain('is the server running, is the port right?');
    expect(existsSync(keyFile(home))).toBe(false);
    expect(existsSync(join(home, 'sessions', 'alice.db'))).toBe(false);
  });

  it('a shortened pin is refused before any key or passphrase question', async () => {
    const home = tempHome('badpin');
    const tty = run(home, ['alice', '127.0.0.1', '5999', '--pin', 'sha256:7a88…63c9']);
    expect(await exitOf(tty)).toBe(2);
    const screen = tty.screen();
    expect(screen).toContain('invalid pin');
    expect(screen).not.toContain('Passphrase');
    expect(existsSync(keyFile(home))).toBe(false);
  });

  it('prints a pin mismatch once, legibly (no raw ^J), and exits 3', async () => {
    server = await spawnServe();
    const home = tempHome('mismatch');
    const wrong = `sha256:${'00'.repeat(32)}`;
    const tty = run(home, ['alice', '127.0.0.1', String(server.port), '--pin', wrong], {
      SECURECHAT_PASSPHRASE: '',
    });
    expect(await exitOf(tty)).toBe(3);
    const screen = tty.screen({ joined: true });
    expect(screen.split('does not match the pin')).toHaveLength(2);
    expect(screen).not.toContain('^J');
    expect(screen).toContain(`expected:  ${wrong}`);
    expect(existsSync(keyFile(home))).toBe(false);
  });

  it('a name the server refuses leaves no new key behind', async () => {
    server = await spawnServe();
    const first = tempHome('first');
    const holder = run(first, ['alice', '127.0.0.1', String(server.port), '--pin', server.pin], {
      SECURECHAT_PASSPHRASE: '',
    });
    await holder.waitFor((s) => s.includes('connected to'), 15_000);
    const home = tempHome('second');
    const tty = run(home, ['alice', '127.0.0.1', String(server.port), '--pin', server.pin], {
      SECURECHAT_PASSPHRASE: '',
    });
    expect(await exitOf(tty)).toBe(4);
    expect(tty.screen({ joined: true })).toContain('The new identity key for alice was removed');
    expect(existsSync(keyFile(home))).toBe(false);
    expect(existsSync(keyFile(first))).toBe(true);
  });
});
