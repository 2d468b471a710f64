import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type JsonClient, spawnJsonClient } from '../cli.js';
import type { Frame } from './attacker.js';
import { HostileServer } from './server.js';

export type Event = Record<string, unknown>;

export const incoming = (from: string, text: string) => (e: Event) =>
  e.kind === 'message' && e.direction === 'in' && e.from === from && e.text === text;
export const knows = (user: string) => (e: Event) =>
  (e.kind === 'presence' && e.event === 'join' && e.user === user) ||
  (e.kind === 'users' && (e.users as Array<{ name: string }>).some((u) => u.name === user));
export const homeDir = (name: string) => mkdtempSync(join(tmpdir(), `securechat-${name}-`));

/** Real CLI clients (`--json`) talking through a {@link HostileServer}, cleaned up by `stop`. */
export class Scenario {
  readonly server: HostileServer;
  readonly clients: JsonClient[] = [];

  private constructor(server: HostileServer) {
    this.server = server;
  }

  static async start(): Promise<Scenario> {
    return new Scenario(await HostileServer.start());
  }

  connect(user: string, home = homeDir(user), extra: string[] = []): JsonClient {
    const client = spawnJsonClient(user, this.server.port, ['--pin', this.server.pin, ...extra], {
      home,
    });
    this.clients.push(client);
    return client;
  }

  /** Everything `client` wrote before this call has reached the server. */
  sent(name: string, client: JsonClient): Promise<void> {
    return this.server.fromClientBarrier(name, (line) => client.send(line));
  }

  /**
   * `/to` was typed with `text`: waits until the client decided (refused it, or reported it
   * sent or failed), then until everything it wrote has reached the server. Returns the
   * refusal or the final delivery event.
   */
  async settled(name: string, client: JsonClient, text: string, from = 0): Promise<Event> {
    const outcome = await client.waitFor(
      (e) =>
        client.events.indexOf(e) >= from &&
        ((e.kind === 'message' && e.direction === 'out' && e.text === text) ||
          (e.kind === 'error' && e.code === 'E_SEND')),
    );
    const result =
      outcome.kind === 'error'
        ? outcome
        : await client.waitFor(
            (e) => e.kind === 'delivery' && e.id === outcome.id && e.status !== 'queued',
          );
    await this.sent(name, client);
    return result;
  }

  /** `client` has handled every frame the server sent it before this call. */
  handled(name: string, client: JsonClient): Promise<void> {
    return this.server.toClientBarrier(name, (test) => client.waitFor(test));
  }

  /**
   * alice and bob meet and exchange one message each way over the ratchet, so each has
   * seen the other's identity with `ratchet` (the floor every attack below tries to lower).
   */
  async converse(
    alice: JsonClient,
    bob: JsonClient,
    names: [string, string] = ['alice', 'bob'],
  ): Promise<void> {
    const [a, b] = names;
    await alice.waitFor(knows(b));
    await bob.waitFor(knows(a));
    alice.send(`/to ${b} hello ${b}`);
    const got = await bob.waitFor(incoming(a, `hello ${b}`));
    if (got.protection !== 'e2ee-v2' && got.protection !== 'e2ee-pq')
      throw new Error(`expected a ratchet message, got ${got.protection}`);
    bob.send(`/to ${a} hello ${a}`);
    await alice.waitFor(incoming(b, `hello ${a}`));
  }

  /** Events of `client` after index `from`. */
  static since(client: JsonClient, from: number): Event[] {
    return client.events.slice(from);
  }

  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.kill();
    await this.server.close();
  }
}

/** Whether a relay's ratchet header starts a new session (X3DH init flag). */
export function isInit(relay: Frame): boolean {
  const header = Buffer.from(String(relay.header ?? ''), 'base64');
  return header.length > 1 && (header[1]! & 0x01) === 1;
}

/**
 * For a describe block: `const start = scenarioPerTest()`, then `const s = await start()`
 * in each test; whatever was started is stopped after the test.
 */
export function scenarioPerTest(): () => Promise<Scenario> {
  let current: Scenario | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return async () => {
    current = await Scenario.start();
    return current;
  };
}
