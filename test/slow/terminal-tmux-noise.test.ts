/**
 * Issue 15, noise, in a real terminal (tmux): delivery as a suffix on the message line,
 * one line per join, and events about a member told once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type JsonClient, type ServeProcess, spawnJsonClient, spawnServe } from '../helpers/cli.js';
import { type TmuxSession, tmuxAvailable } from '../helpers/tmux.js';
import { runInTmux, tempHome } from '../helpers/tmux-connect.js';

const hasTmux = tmuxAvailable();
type JsonEvent = Record<string, unknown>;

describe.skipIf(!hasTmux)('a calm screen (tmux)', { timeout: 60_000 }, () => {
  let server: ServeProcess | undefined;
  const terminals: TmuxSession[] = [];
  const peers: JsonClient[] = [];

  const connect = async () => {
    const home = tempHome('noise');
    const tty = runInTmux(
      home,
      ['connect', 'alice', '127.0.0.1', String(server!.port), '--pin', server!.pin, '--home', home],
      { SECURECHAT_PASSPHRASE: '' },
    );
    terminals.push(tty);
    await tty.waitFor((s) => s.includes('you joined #lobby'), 15_000, 'the lobby');
    return tty;
  };
  const peer = async (name: string, tty: TmuxSession, home?: string) => {
    const client = spawnJsonClient(name, server!.port, ['--pin', server!.pin], {
      ...(home ? { home } : {}),
    });
    peers.push(client);
    await client.waitFor((e) => e.kind === 'room' && e.event === 'joined');
    await tty.waitFor((s) => s.includes(`${name} joined (`), 10_000, `${name} on screen`);
    return client;
  };
  const rowsWith = (tty: TmuxSession, text: string) =>
    tty.rows({ joined: true }).filter((r) => r.includes(text));

  afterEach(async () => {
    for (const t of terminals.splice(0)) t.kill();
    for (const p of peers.splice(0)) p.kill();
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it('marks delivery on the message line (✓✓), not on lines of its own', async () => {
    server = await spawnServe();
    const tty = await connect();
    const bob = await peer('bob', tty);
    tty.type('/to bob hello there');
    tty.press('Enter');
    await bob.waitFor((e: JsonEvent) => e.kind === 'message' && e.text === 'hello there');
    await tty.waitFor(
      (s) => /<alice -> bob> hello there ✓✓$/m.test(s),
      10_000,
      'the delivered mark',
    );
    expect(rowsWith(tty, '> hello there'), tty.screen()).toHaveLength(1);
    expect(tty.screen()).not.toMatch(/msg \S+ to bob: (sent|delivered)/);
    // More lines typed and printed in between: each mark still lands on its own message.
    for (const n of [1, 2, 3]) {
      tty.type(`/to bob number ${n}`);
      tty.press('Enter');
      await bob.waitFor((e: JsonEvent) => e.kind === 'message' && e.text === `number ${n}`);
    }
    await tty.waitFor((s) => /<alice -> bob> number 3 ✓✓$/m.test(s), 10_000, 'the third mark');
    for (const n of [1, 2, 3])
      expect(rowsWith(tty, `<alice -> bob> number ${n} ✓✓`), tty.screen()).toHaveLength(1);
    expect(rowsWith(tty, '<alice -> bob> hello there ✓✓')).toHaveLength(1);
  });

  it('marks a message kept for an offline friend as stored (⌛)', async () => {
    server = await spawnServe();
    const tty = await connect();
    const carolHome = tempHome('carol');
    const carol = await peer('carol', tty, carolHome);
    carol.kill();
    await tty.waitFor((s) => s.includes('carol left'), 10_000, 'carol leaving');
    tty.type('/to carol see you later');
    tty.press('Enter');
    await tty.waitFor(
      (s) => /<alice -> carol> see you later ⌛ stored$/m.test(s),
      15_000,
      'the stored mark',
    );
    expect(rowsWith(tty, '> see you later'), tty.screen()).toHaveLength(1);
    // carol comes back: the message carries the time alice typed it, from inside the
    // encryption, and is marked as kept while she was away.
    const back = spawnJsonClient('carol', server.port, ['--pin', server.pin], { home: carolHome });
    peers.push(back);
    const got = await back.waitFor(
      (e: JsonEvent) => e.kind === 'message' && e.text === 'see you later',
      15_000,
    );
    expect(typeof got.sentAt).toBe('number');
    expect(got.sentAt as number).toBeLessThanOrEqual(got.ts as number);
    // carol's client acknowledged it: alice's line turns delivered, as the server reports it.
    await tty.waitFor(
      (s) => /<alice -> carol> see you later ✓✓ fetched, says the server$/m.test(s),
      15_000,
      'the delivered mark after the fetch',
    );
  });

  it('one line per join and leave, and a kick or part told once', async () => {
    server = await spawnServe();
    const tty = await connect();
    const bob = await peer('bob', tty);
    expect(rowsWith(tty, 'bob joined')).toHaveLength(1);
    tty.type('/join #dev');
    tty.press('Enter');
    await tty.waitFor((s) => s.includes('you joined #dev'), 10_000, 'alice in #dev');
    bob.send('/join #dev');
    await tty.waitFor((s) => s.includes('bob joined #dev'), 10_000, 'bob in #dev');
    tty.type('/kick #dev bob');
    tty.press('Enter');
    await bob.waitFor((e: JsonEvent) => e.kind === 'room' && e.event === 'kick');
    await tty.waitFor((s) => s.includes('bob was kicked from #dev by alice'), 10_000);
    bob.send('/join #dev');
    await tty.waitFor(() => rowsWith(tty, 'bob joined #dev').length === 2, 10_000);
    bob.send('/part #dev');
    await bob.waitFor((e: JsonEvent) => e.kind === 'room' && e.event === 'part');
    await tty.waitFor((s) => s.includes('bob left #dev'), 10_000);
    // a barrier for bob: a later event of his own arrives after any duplicate would
    bob.send('/rooms');
    await bob.waitFor((e: JsonEvent) => e.kind === 'rooms');
    const kicks = bob.events.filter((e) => e.kind === 'room' && e.event === 'kick');
    const parts = bob.events.filter((e) => e.kind === 'room' && e.event === 'part');
    expect(kicks).toHaveLength(1);
    expect(parts).toHaveLength(1);
    expect(rowsWith(tty, 'was kicked from #dev')).toHaveLength(1);
    expect(rowsWith(tty, 'bob left #dev')).toHaveLength(1);
    expect(rowsWith(tty, 'bob joined #lobby')).toHaveLength(0);
  });
});
