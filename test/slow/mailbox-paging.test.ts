import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deriveV1Key,
  fromBase64,
  generateX25519KeyPair,
  sealV1,
  toBase64,
} from '../../src/protocol/index.js';
import {
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  waitUntil,
} from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * The real client reads a mailbox that takes several pages: the server sends the next page
 * only after the client's `fetched`, so a client that did not ask on would stop at the
 * first page.
 */
describe('end-to-end: a mailbox delivered in pages', () => {
  let server: ServeProcess | undefined;
  const clients: JsonClient[] = [];
  let sender: RawClient | undefined;

  afterEach(async () => {
    for (const client of clients.splice(0)) client.kill();
    sender?.close();
    await server?.stop();
    server = undefined;
  });

  it('delivers 45 stored messages in pages of 10 to the CLI client, each once', async () => {
    server = await spawnServe(['--mailbox-page', '10']);
    const home = mkdtempSync(join(tmpdir(), 'securechat-bob-'));
    const keys = generateX25519KeyPair();
    sender = await RawClient.hello({
      port: server.port,
      certPem: readFileSync(server.certPath, 'utf8'),
      user: 'alice',
      pub: toBase64(keys.publicKey),
    });
    const bob = spawnJsonClient('bob', server.port, ['--pin', server.pin], { home });
    clients.push(bob);
    const users = await sender.next(
      (f) => f.type === 'users' && typeof (f.users as Record<string, string>).bob === 'string',
    );
    const bobPub = fromBase64((users.users as Record<string, string>).bob!, 'pub', 32);
    expect(await bob.end()).toBe(0);
    await sender.next((f) => f.type === 'users' && !('bob' in (f.users as object)));

    const key = deriveV1Key(keys.secretKey, bobPub);
    for (let i = 0; i < 45; i++) {
      sender.send({ type: 'relay', to: 'bob', ...sealV1(key, `stored ${i}`), id: `s${i}` });
    }
    for (let i = 0; i < 45; i++)
      expect(await sender.next((f) => f.id === `s${i}` || f.ref === `s${i}`)).toMatchObject({
        type: 'ack',
        queued: true,
      });

    const again = spawnJsonClient('bob', server.port, ['--pin', server.pin], { home });
    clients.push(again);
    const texts = await waitUntil(
      () => {
        const got = again.events
          .filter((e) => e.kind === 'message' && e.direction === 'in' && e.from === 'alice')
          .map((e) => String(e.text));
        return got.length >= 45 ? got : undefined;
      },
      20_000,
      () => `45 stored messages; have ${JSON.stringify(again.events)}`,
    );
    expect(texts).toEqual(Array.from({ length: 45 }, (_, i) => `stored ${i}`));
    expect(await again.end()).toBe(0);
  });
});
