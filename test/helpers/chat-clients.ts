import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '../../src/client/chat-client.js';
import type { ClientLimits } from '../../src/client/e2ee/limits.js';
import type { ClientEvent } from '../../src/client/events.js';
import {
  createIdentity,
  identityPath,
  loadIdentityFile,
} from '../../src/client/identity/keystore.js';
import { ServerConnection, type ServerConnectionOptions } from '../../src/client/net/connection.js';
import { parsePin } from '../../src/client/net/pinning.js';
import { StateDb } from '../../src/client/state/state-db.js';
import { createTransfers } from '../../src/client/transfers/client-transfers.js';
import { TrustStore } from '../../src/client/trust/trust-store.js';
import type { ParsedServerFrame } from '../../src/protocol/index.js';

/** A real ChatClient (v2, identity, ratchet) in-process, with every event and raw frame recorded. */
export interface TestChat {
  client: ChatClient;
  events: ClientEvent[];
  frames: ParsedServerFrame[];
  home: string;
  waitFor(test: (event: ClientEvent) => boolean, timeoutMs?: number): Promise<ClientEvent>;
  waitForFrame(
    test: (frame: ParsedServerFrame) => boolean,
    timeoutMs?: number,
  ): Promise<ParsedServerFrame>;
  /**
   * A barrier: sends `ping` and waits for its `pong`. The server answers in order, and the
   * client handles frames in order as they arrive, so every frame the server wrote before
   * the pong has been handled (its events recorded) once this resolves.
   */
  sync(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function poll<T>(
  find: () => T | undefined,
  timeoutMs: number,
  what: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function startChat(
  name: string,
  port: number,
  pin: string,
  home?: string,
  connectionOptions: Partial<ServerConnectionOptions> = {},
  options: {
    now?: () => number;
    limits?: Partial<ClientLimits>;
    /** File transfers, persisted in the identity's state (downloads into `downloadDir`). */
    transfers?: { downloadDir: string; autoAccept?: ReadonlyMap<string, number> };
  } = {},
): Promise<TestChat> {
  const dir = home ?? mkdtempSync(join(tmpdir(), `securechat-chat-${name}-`));
  // The same home again is the same user restarting.
  const keyFile = identityPath(dir, name);
  const identity = existsSync(keyFile)
    ? loadIdentityFile(keyFile, undefined)
    : createIdentity(dir, name, undefined, { N: 1024, r: 8, p: 1 });
  const connection = new ServerConnection({
    host: '127.0.0.1',
    port,
    pin: parsePin(pin),
    ...connectionOptions,
  });
  const state = options.transfers ? StateDb.open(dir, name) : undefined;
  const client = new ChatClient({
    name,
    connection,
    identity,
    trust: new TrustStore(dir, name),
    ...(state && options.transfers
      ? {
          state,
          transfers: createTransfers({
            downloadDir: options.transfers.downloadDir,
            ...(options.transfers.autoAccept ? { autoAccept: options.transfers.autoAccept } : {}),
            state: { db: state, identity },
          }),
        }
      : { configDir: dir }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const events: ClientEvent[] = [];
  const frames: ParsedServerFrame[] = [];
  client.on('event', (event) => events.push(event));
  connection.on('frame', (frame) => frames.push(frame));
  client.start();
  const chat: TestChat = {
    client,
    events,
    frames,
    home: dir,
    waitFor: (test, timeoutMs = 10_000) =>
      poll(
        () => events.find(test),
        timeoutMs,
        () => `an event of ${name}; have ${JSON.stringify(events.slice(-8))}`,
      ),
    waitForFrame: (test, timeoutMs = 10_000) =>
      poll(
        () => frames.find(test),
        timeoutMs,
        () => `a frame for ${name}`,
      ),
    async sync(timeoutMs = 10_000) {
      const pongs = () => frames.filter((f) => f.type === 'pong').length;
      const before = pongs();
      connection.send({ type: 'ping' });
      await poll(
        () => (pongs() > before ? true : undefined),
        timeoutMs,
        () => `a pong for ${name}`,
      );
    },
    close: () => client.close(),
  };
  await chat.waitFor((e) => e.kind === 'users');
  return chat;
}
