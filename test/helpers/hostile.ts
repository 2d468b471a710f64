import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { RawClient } from './raw-client.js';
import { goOffline, type Presence } from './server.js';
import { newIdentity, type TestIdentity, v2Hello } from './v2-hello.js';

/**
 * Hostile users as first-class fixtures: their own code (raw TLS clients sending
 * well-formed frames as fast as the server lets them, under as many names, identities and
 * connections as it allows), next to a well-behaved pair whose chat must go on throughout.
 * Nothing here uses the project's client.
 */

export interface Target {
  port: number;
  certPem: string;
}

export const ALL_CAPS = ['presence', 'ack', 'ping', 'ratchet', 'mailbox', 'rooms'];
const NONCE = Buffer.alloc(12, 1).toString('base64');

/** A ratchet-shaped relay whose Base64 `cipher` is about `bytes` long. */
export function relayFrame(to: string, id: string, bytes = 64): Record<string, unknown> {
  const raw = Math.max(16, Math.floor((bytes * 3) / 4));
  return {
    type: 'relay',
    to,
    alg: 'X3DH+DR+AESGCM',
    header: Buffer.alloc(42, 2).toString('base64'),
    nonce: NONCE,
    cipher: randomBytes(raw).toString('base64'),
    id,
  };
}

/** Connects and sends a v2 hello; resolves with the client and the first answer (welcome or error). */
export async function helloV2(
  target: Target,
  user: string,
  who: TestIdentity = newIdentity(),
  options: { caps?: string[]; localAddress?: string } = {},
): Promise<{ client: RawClient; answer: Record<string, unknown>; who: TestIdentity }> {
  const client = await RawClient.connect({
    port: target.port,
    certPem: target.certPem,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  client.send(v2Hello(client.socket, user, who, options.caps ?? ALL_CAPS));
  const answer = await client.next((f) => f.type === 'welcome' || f.type === 'error', 8000);
  return { client, answer, who };
}

/** Logs in once (binding the name, publishing caps) and leaves. */
export async function visit(
  t: Target & Presence,
  user: string,
  who: TestIdentity = newIdentity(),
  options: { caps?: string[]; localAddress?: string } = {},
): Promise<TestIdentity> {
  await goOffline(t, await loginV2(t, user, who, options), user);
  return who;
}

/** Like {@link helloV2} but insists on a welcome. */
export async function loginV2(
  target: Target,
  user: string,
  who: TestIdentity = newIdentity(),
  options: { caps?: string[]; localAddress?: string } = {},
): Promise<RawClient> {
  const { client, answer } = await helloV2(target, user, who, options);
  expect(answer, `hello of ${user}`).toMatchObject({ type: 'welcome' });
  return client;
}

/**
 * Proves that nothing more is on its way: a ping answered by a pong means every frame the
 * server queued before it was read. Returns the frames that arrived before the pong.
 */
export async function barrier(
  client: RawClient,
  timeoutMs = 8000,
): Promise<Array<Record<string, unknown>>> {
  await client.sync(timeoutMs);
  return client.frames.splice(0);
}

/**
 * A well-behaved pair on its own address: each side sends a relay every `everyMs` and the
 * other must receive every one of them. {@link stop} checks nothing was lost.
 */
export class ChattingPair {
  readonly a: RawClient;
  readonly b: RawClient;
  readonly aName: string;
  readonly bName: string;
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #gotA = 0;
  #gotB = 0;
  #errors: Array<Record<string, unknown>> = [];

  private constructor(a: RawClient, b: RawClient, aName: string, bName: string) {
    this.a = a;
    this.b = b;
    this.aName = aName;
    this.bName = bName;
    for (const [client, count] of [
      [a, () => this.#gotA++],
      [b, () => this.#gotB++],
    ] as const) {
      client.socket.on('data', () => {
        for (let i = client.frames.length - 1; i >= 0; i--) {
          const frame = client.frames[i]!;
          if (frame.type === 'relay' && String(frame.id).startsWith('pair-')) {
            client.frames.splice(i, 1);
            count();
          } else if (frame.type === 'ack' && String(frame.id).startsWith('pair-')) {
            client.frames.splice(i, 1);
          } else if (frame.type === 'error') {
            this.#errors.push(frame);
            client.frames.splice(i, 1);
          }
        }
      });
    }
  }

  static async start(
    target: Target,
    options: { localAddress?: string; names?: [string, string]; everyMs?: number } = {},
  ): Promise<ChattingPair> {
    const [aName, bName] = options.names ?? ['goodA', 'goodB'];
    const opts = {
      caps: ['presence', 'ack', 'ping'],
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    };
    const a = await loginV2(target, aName, newIdentity(), opts);
    const b = await loginV2(target, bName, newIdentity(), opts);
    const pair = new ChattingPair(a, b, aName, bName);
    pair.#timer = setInterval(() => pair.#exchange(), options.everyMs ?? 40);
    return pair;
  }

  #exchange(): void {
    const n = this.#sent++;
    this.a.send(relayFrame(this.bName, `pair-a${n}`));
    this.b.send(relayFrame(this.aName, `pair-b${n}`));
  }

  /** Stops sending and checks every relay arrived, with no error on either side. */
  async stop(timeoutMs = 10_000): Promise<number> {
    clearInterval(this.#timer);
    this.#exchange(); // at least one, however short the test
    await barrier(this.a);
    await barrier(this.b);
    const deadline = Date.now() + timeoutMs;
    while ((this.#gotA < this.#sent || this.#gotB < this.#sent) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(this.#errors, 'errors seen by the well-behaved pair').toEqual([]);
    expect({ toA: this.#gotA, toB: this.#gotB }).toEqual({ toA: this.#sent, toB: this.#sent });
    expect(this.#sent).toBeGreaterThan(0);
    this.a.close();
    this.b.close();
    return this.#sent;
  }
}

/**
 * Reads a mailbox the way a correct client does: every stored relay is acknowledged with
 * `fetched` (up to the highest `seq` of what arrived), until `count` arrived.
 */
export async function readMailbox(
  client: RawClient,
  count: number,
  timeoutMs = 15_000,
): Promise<Array<Record<string, unknown>>> {
  const got: Array<Record<string, unknown>> = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`mailbox: ${got.length} of ${count} arrived`);
    const frame = await client.next((f) => f.type === 'relay' && f.seq !== undefined, left);
    got.push(frame);
    const more = client.frames.filter((f) => f.type === 'relay' && f.seq !== undefined);
    for (const m of more) client.frames.splice(client.frames.indexOf(m), 1);
    got.push(...more);
    client.send({ type: 'fetched', upto: Math.max(...got.map((f) => f.seq as number)) });
  }
  return got;
}

/** Many names, identities and connections held by one attacker; closes them all at the end. */
export class Attacker {
  readonly clients: RawClient[] = [];
  #target: Target;
  #localAddress: string | undefined;

  constructor(target: Target, localAddress?: string) {
    this.#target = target;
    this.#localAddress = localAddress;
  }

  /** A v2 login under a fresh identity (or `who`); resolves with the welcome or the refusal. */
  async login(
    user: string,
    who: TestIdentity = newIdentity(),
    caps = ALL_CAPS,
  ): Promise<{ client: RawClient; answer: Record<string, unknown> }> {
    const result = await helloV2(this.#target, user, who, {
      caps,
      ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
    });
    this.clients.push(result.client);
    return result;
  }

  /** A raw connection (no hello). */
  async connect(): Promise<RawClient> {
    const client = await RawClient.connect({
      port: this.#target.port,
      certPem: this.#target.certPem,
      ...(this.#localAddress ? { localAddress: this.#localAddress } : {}),
    });
    this.clients.push(client);
    return client;
  }

  closeAll(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}
export { goOffline, type Presence } from './server.js';
