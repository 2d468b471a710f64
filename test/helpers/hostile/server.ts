import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { makeCertificate, type TestCertificate } from '../certs.js';
import { Attacker, type Frame, type PeerEntry } from './attacker.js';
import { HostileRooms } from './rooms.js';

/** One client connected to the hostile server. */
export interface HostileClient {
  readonly name: string;
  readonly hello: Frame;
  /** The honest directory entry built from its hello. */
  readonly entry: PeerEntry;
  /** Every frame it sent after its hello. */
  readonly frames: Frame[];
  send(frame: Frame): void;
  close(): void;
}

/** What a test may do with a relay before the server forwards it honestly. */
export type RelayHook = (from: HostileClient, relay: Frame) => 'forward' | 'drop';

const DEFAULT_CAPS = ['presence', 'ack', 'ping', 'ratchet', 'mailbox', 'rooms', 'spk', 'pq'];

/** A KEM prekey as clients publish it (`prekeys` upload `kem` / `kemlr`). */
export interface KemPrekeyEntry {
  id: number;
  created: number;
  pub: string;
  sig: string;
}

/** A signed prekey as clients publish it (hello `spk`, `prekeys` upload `spk`). */
export interface SignedPrekeyEntry {
  id: number;
  created: number;
  pub: string;
  sig: string;
  pubsig: string;
}

/**
 * A scripted hostile server for attack tests: its own code (not the project's server), real
 * TLS on 127.0.0.1 with a throwaway certificate. It welcomes real clients without checking
 * their hellos, relays honestly unless told otherwise, and lies where a test asks it to:
 * per viewer directory entries (`lie`), welcome capabilities (`caps`), relays intercepted
 * by `onRelay`, frames injected with `inject`. Its {@link Attacker} tries to decrypt every
 * envelope and room message that passes through.
 */
export class HostileServer {
  readonly attacker = new Attacker();
  readonly rooms: HostileRooms;
  /** Capabilities announced in the next welcomes. */
  caps = [...DEFAULT_CAPS];
  onRelay: RelayHook | undefined;
  /** Hand out bundles without one-time prekeys (so a replayed first message needs none). */
  withholdOneTimePrekeys = false;
  /** Hand out bundles without the signed prekey (the owner's long-lived hello key instead). */
  stripSignedPrekeys = false;
  /** Hand out bundles without any KEM prekey (a downgrade from PQXDH to X3DH). */
  stripKemPrekeys = false;
  /** Hand out bundles whose `caps` lack `pq` (as if the owner never announced it). */
  stripPqCaps = false;
  /** Instead of the honest `prekeys` counts after a welcome, send these (lies). */
  prekeyCounts: Frame[] | undefined;
  /** Every signed prekey each client published, oldest first (lower-case name), with its identity. */
  readonly signedPrekeys = new Map<string, Array<SignedPrekeyEntry & { idk: string }>>();
  /** Frames received from each client name (lower case), kept across reconnects. */
  readonly received = new Map<string, Frame[]>();
  readonly #clients = new Map<string, HostileClient>();
  readonly #lies = new Map<string, Map<string, PeerEntry | null>>();
  readonly #prekeys = new Map<string, Array<{ id: number; pub: string }>>();
  readonly #kemPrekeys = new Map<string, KemPrekeyEntry[]>();
  readonly #kemLastResort = new Map<string, KemPrekeyEntry>();
  readonly #waiters = new Set<() => void>();
  #server!: Server;
  #sockets = new Set<TLSSocket>();
  #barriers = 0;
  port = 0;
  pin = '';
  cert!: TestCertificate;

  static async start(): Promise<HostileServer> {
    const hostile = new HostileServer();
    await hostile.#listen(0);
    return hostile;
  }

  /** Drops everyone and listens again on the same port with a new certificate. */
  async rotateCertificate(): Promise<void> {
    await this.close();
    await this.#listen(this.port);
  }

  async #listen(port: number): Promise<void> {
    this.cert = await makeCertificate();
    const der = new X509Certificate(this.cert.certPem).raw;
    this.pin = `sha256:${createHash('sha256').update(der).digest('hex')}`;
    this.#server = createServer({ cert: this.cert.certPem, key: this.cert.keyPem }, (s) =>
      this.#accept(s),
    );
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  private constructor() {
    this.rooms = new HostileRooms({
      client: (name) => this.client(name),
      entryFor: (viewer, name) => this.entryFor(viewer, name),
      observe: (from, frame) => this.attacker.observeRoomMessage(from, frame),
    });
  }

  client(name: string): HostileClient | undefined {
    return this.#clients.get(name.toLowerCase());
  }

  /** Shows `viewer` another entry for `name` from now on (`null`: hides `name`). */
  lie(viewer: string, name: string, entry: PeerEntry | null): void {
    const lies = this.#lies.get(viewer.toLowerCase()) ?? new Map<string, PeerEntry | null>();
    lies.set(name.toLowerCase(), entry);
    this.#lies.set(viewer.toLowerCase(), lies);
  }

  /** What `viewer` is told about `name`: the lie if there is one, else the honest entry. */
  entryFor(viewer: string, name: string): PeerEntry | undefined {
    const lie = this.#lies.get(viewer.toLowerCase())?.get(name.toLowerCase());
    if (lie !== undefined) return lie ?? undefined;
    const entry = this.client(name)?.entry;
    if (!entry || !this.stripPqCaps) return entry;
    return { ...entry, caps: (entry.caps ?? []).filter((c) => c !== 'pq') };
  }

  directoryFor(viewer: string): Record<string, PeerEntry> {
    const names = new Set([...this.#clients.values()].map((c) => c.name));
    for (const name of this.#lies.get(viewer.toLowerCase())?.keys() ?? []) names.add(name);
    const out: Record<string, PeerEntry> = {};
    for (const name of names) {
      const entry = this.entryFor(viewer, name);
      if (entry) out[this.client(name)?.name ?? name] = entry;
    }
    return out;
  }

  /** Pushes the (possibly forged) entry of `name` to `viewer` as a presence update. */
  pushPresence(viewer: string, name: string): void {
    const entry = this.entryFor(viewer, name);
    this.client(viewer)?.send(
      entry
        ? { type: 'presence', event: 'join', user: name, peer: entry }
        : { type: 'presence', event: 'leave', user: name },
    );
  }

  /** Sends `frame` to a client as if it were genuine traffic. */
  inject(to: string, frame: Frame): void {
    const client = this.client(to);
    if (!client) throw new Error(`${to} is not connected to the hostile server`);
    client.send(frame);
  }

  async waitForClient(name: string, timeoutMs = 10_000): Promise<HostileClient> {
    return this.#until(() => this.client(name), timeoutMs, `${name} to connect`);
  }

  /** The first frame from `name` (past or future) matching `test`. */
  async waitForFrame(name: string, test: (f: Frame) => boolean, timeoutMs = 10_000) {
    return this.#until(
      () => this.received.get(name.toLowerCase())?.find(test),
      timeoutMs,
      `a frame from ${name}`,
    );
  }

  /**
   * Barrier for frames the client wrote: once `/server <token>` typed after an action reaches
   * the server, everything the client sent before it has arrived too (one TLS stream).
   */
  async fromClientBarrier(name: string, typeLine: (line: string) => void): Promise<void> {
    const token = `barrier-${++this.#barriers}`;
    typeLine(`/server ${token}`);
    await this.waitForFrame(name, (f) => f.type === 'chat' && f.text === token);
  }

  /**
   * Barrier for frames the server wrote: the client shows a `server` event with the token
   * only after it handled every frame sent before it.
   */
  async toClientBarrier(
    name: string,
    waitForEvent: (test: (e: Frame) => boolean) => Promise<unknown>,
  ): Promise<void> {
    const token = `barrier-${++this.#barriers}`;
    this.inject(name, { type: 'server', text: token });
    await waitForEvent((e) => e.kind === 'server' && e.text === token);
  }

  /** Relays `from` sent, in order (for replays). */
  relaysFrom(name: string): Frame[] {
    return (this.received.get(name.toLowerCase()) ?? []).filter((f) => f.type === 'relay');
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Forwards a relay to its recipient with `from` set (what an honest server does). */
  deliver(from: string, relay: Frame, overrides: Frame = {}): boolean {
    const target = this.client(String(relay.to));
    if (!target) return false;
    const { type: _t, to, ...rest } = relay;
    target.send({ type: 'relay', ...rest, to, from, ...overrides });
    return true;
  }

  #accept(socket: TLSSocket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let client: HostileClient | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const frame = JSON.parse(line) as Frame;
        if (!client) client = this.#hello(socket, frame);
        else this.#frame(client, frame);
        this.#wake();
      }
    });
    socket.on('close', () => {
      if (client && this.#clients.get(client.name.toLowerCase()) === client) this.#leave(client);
      this.#wake();
    });
  }

  #hello(socket: TLSSocket, hello: Frame): HostileClient {
    const name = String(hello.user);
    const v2 = hello.v === 2;
    const entry: PeerEntry = v2
      ? {
          pub: String(hello.pub),
          v: 2,
          idk: String(hello.idk),
          sig: String(hello.pubsig),
          caps: hello.caps as string[],
        }
      : { pub: String(hello.pub), v: 1 };
    const client: HostileClient = {
      name,
      hello,
      entry,
      frames: [],
      send: (frame) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(frame)}\n`);
      },
      close: () => socket.destroy(),
    };
    this.#clients.get(name.toLowerCase())?.close();
    this.#clients.set(name.toLowerCase(), client);
    if (!this.received.has(name.toLowerCase())) this.received.set(name.toLowerCase(), []);
    if (v2) {
      client.send({
        type: 'welcome',
        v: 2,
        caps: this.caps,
        users: {},
        peers: this.directoryFor(name),
      });
      if (hello.spk) this.#publish(client, hello.spk as SignedPrekeyEntry);
      if (hello.kemlr) this.#publishKem(name.toLowerCase(), { kemlr: hello.kemlr });
      if (this.caps.includes('ratchet')) {
        for (const count of this.prekeyCounts ?? [this.#count(name)]) client.send(count);
      }
    } else {
      const users: Record<string, string> = {};
      for (const [user, e] of Object.entries(this.directoryFor(name))) users[user] = e.pub;
      client.send({ type: 'welcome', users });
    }
    for (const other of this.#clients.values()) {
      if (other !== client && other.hello.v === 2) this.pushPresence(other.name, name);
    }
    return client;
  }

  #leave(client: HostileClient): void {
    this.#clients.delete(client.name.toLowerCase());
    this.rooms.leaveAll(client.name);
    for (const other of this.#clients.values()) {
      if (other.hello.v === 2) other.send({ type: 'presence', event: 'leave', user: client.name });
    }
  }

  #frame(client: HostileClient, frame: Frame): void {
    client.frames.push(frame);
    this.received.get(client.name.toLowerCase())?.push(frame);
    switch (frame.type) {
      case 'ping':
        client.send({ type: 'pong' });
        return;
      case 'list':
        client.send({ type: 'users', users: {}, peers: this.directoryFor(client.name) });
        return;
      case 'chat':
        client.send({ type: 'server', text: `echo: ${String(frame.text)}` });
        return;
      case 'prekeys': {
        const keys = this.#prekeys.get(client.name.toLowerCase()) ?? [];
        if (frame.replace === true) keys.length = 0;
        keys.push(...((frame.keys ?? []) as Array<{ id: number; pub: string }>));
        this.#prekeys.set(client.name.toLowerCase(), keys);
        if (frame.spk) this.#publish(client, frame.spk as SignedPrekeyEntry);
        this.#publishKem(client.name.toLowerCase(), frame);
        return;
      }
      case 'bundle':
        client.send(this.#bundle(client.name, String(frame.user), frame.id as string | undefined));
        return;
      case 'relay':
        this.#relay(client, frame);
        return;
      default:
        this.rooms.onFrame(client, frame);
    }
  }

  /** The newest signed prekey `user` published (what an honest server hands out). */
  currentSignedPrekey(user: string): (SignedPrekeyEntry & { idk: string }) | undefined {
    return this.signedPrekeys.get(user.toLowerCase())?.at(-1);
  }

  #publish(client: HostileClient, spk: SignedPrekeyEntry): void {
    const published = this.signedPrekeys.get(client.name.toLowerCase()) ?? [];
    if (!published.some((p) => p.id === spk.id))
      published.push({ ...spk, idk: String(client.hello.idk) });
    this.signedPrekeys.set(client.name.toLowerCase(), published);
  }

  #publishKem(name: string, frame: Frame): void {
    const kem = this.#kemPrekeys.get(name) ?? [];
    if (frame.kemreplace === true) kem.length = 0;
    kem.push(...((frame.kem ?? []) as KemPrekeyEntry[]));
    this.#kemPrekeys.set(name, kem);
    if (frame.kemlr) this.#kemLastResort.set(name, frame.kemlr as KemPrekeyEntry);
  }

  /** Whether `user` published KEM prekeys here (a `pq` client did). */
  hasKemPrekeys(user: string): boolean {
    return this.#kemLastResort.has(user.toLowerCase());
  }

  #count(name: string): Frame {
    const spk = this.currentSignedPrekey(name);
    const lr = this.#kemLastResort.get(name.toLowerCase());
    return {
      type: 'prekeys',
      stored: this.#prekeys.get(name.toLowerCase())?.length ?? 0,
      ...(spk ? { spk: { id: spk.id, created: spk.created } } : {}),
      ...(this.caps.includes('pq')
        ? {
            kem: this.#kemPrekeys.get(name.toLowerCase())?.length ?? 0,
            ...(lr ? { kemlr: { id: lr.id, created: lr.created } } : {}),
          }
        : {}),
    };
  }

  #bundle(viewer: string, user: string, id: string | undefined): Frame {
    const entry = this.entryFor(viewer, user);
    if (!entry?.idk) return { type: 'error', code: 'E_NO_BUNDLE', text: 'no bundle', ref: id };
    if (entry.idk === this.attacker.v2Entry().idk) return this.attacker.bundle(user, id);
    const opk = this.withholdOneTimePrekeys
      ? undefined
      : this.#prekeys.get(user.toLowerCase())?.shift();
    // Honest: the owner's current signed prekey (when the entry is genuinely the owner's).
    const published = this.currentSignedPrekey(user);
    const spk = !this.stripSignedPrekeys && published?.idk === entry.idk ? published : undefined;
    const genuine = published?.idk === entry.idk;
    const oneTimeKem = genuine ? this.#kemPrekeys.get(user.toLowerCase())?.shift() : undefined;
    const lastResort = genuine ? this.#kemLastResort.get(user.toLowerCase()) : undefined;
    const kem = this.stripKemPrekeys
      ? undefined
      : (oneTimeKem ?? (lastResort ? { ...lastResort, last: true } : undefined));
    return {
      type: 'bundle',
      user,
      pub: spk?.pub ?? entry.pub,
      idk: entry.idk,
      sig: spk?.pubsig ?? entry.sig,
      id,
      ...(spk ? { spk: { id: spk.id, created: spk.created, sig: spk.sig } } : {}),
      ...(opk ? { opk } : {}),
      ...(kem ? { kem } : {}),
      caps: entry.caps ?? [],
    };
  }

  #relay(from: HostileClient, relay: Frame): void {
    this.attacker.observeRelay(from.name, from.entry.pub, relay);
    const verdict = this.onRelay?.(from, relay) ?? 'forward';
    if (verdict === 'drop') return;
    if (this.deliver(from.name, relay)) {
      if (relay.id !== undefined) from.send({ type: 'ack', id: relay.id });
    } else if (relay.id !== undefined) {
      from.send({ type: 'error', code: 'E_PEER_OFFLINE', text: 'offline', ref: relay.id });
    }
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = find();
        if (value === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`hostile server: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
}

export type { Frame, PeerEntry } from './attacker.js';
