import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { HelloFrame } from '../../protocol/index.js';
import type { DirectoryMember, PeerDirectory } from '../directory.js';
import type { Logger } from '../logger.js';
import type { NameLimits, SharedNameRates } from '../name-quota.js';
import type { BundleLimits, SharedBundleRates } from '../prekey-service.js';
import type { PresenceBroadcaster } from '../presence.js';
import type { RoomBusHandler } from '../rooms/room-host.js';
import { RedisStore } from '../store/redis/redis-store.js';
import { RedisKeys } from '../store/redis/scripts.js';
import { type ClusterConnectionLimits, ClusterConnections } from './cluster-connections.js';
import { ClusterInbox, type LocalRouter, type RelayFigures } from './cluster-inbox.js';
import { ClusterNames } from './cluster-names.js';
import { ClusterPresence, type LocalMember } from './cluster-presence.js';
import { ClusterRates, sharedBundleRates } from './cluster-rates.js';
import { ClusterRooms } from './cluster-rooms.js';
import { type RedisWait, waitForRedis } from './redis-ready.js';
import { isRemote } from './remote-member.js';

export interface ClusterOptions {
  /** `redis://HOST:PORT[/DB]` or `rediss://…`. */
  url: string;
  /** Key prefix (default `securechat`). */
  prefix?: string;
  /** Heartbeat period; a node silent for twice this is gone, its users leave within 2.5 times it. */
  heartbeatMs?: number;
  /** How long a sender waits for another node to confirm a relay. */
  relayTimeoutMs?: number;
  /** Connection caps held for the whole cluster (default: none beyond each node's own). */
  connectionLimits?: ClusterConnectionLimits;
  logger: Logger;
}

/** What the cluster needs of one server's core. */
export interface ClusterCore {
  directory: PeerDirectory<DirectoryMember>;
  presence: PresenceBroadcaster<DirectoryMember>;
  router: LocalRouter;
  rooms: RoomBusHandler;
  /** Another node put `key` in the penalty box until `until`. */
  penalize(key: string, until: number): void;
  /** Connections open on this node per address key (put back in Redis after a reconnect). */
  connectionCounts(): ReadonlyMap<string, number>;
}

/** Cluster figures for /metrics and `securechat stats`. */
export interface ClusterFigures extends RelayFigures {
  node: string;
  nodes: number;
  usersHere: number;
  usersInCluster: number;
  redisRttMs: number;
  redisErrors: number;
  connected: boolean;
}

/**
 * One node of a cluster sharing a Redis: registers itself (a key refreshed by a heartbeat,
 * expiring after two missed beats), reaps nodes whose key expired (their users leave,
 * their inbox is dropped, their room memberships cleared), checks that every node serves
 * the same certificate, and owns the presence mirror ({@link ClusterPresence}) and the
 * node-to-node relays ({@link ClusterInbox}). Redis connections: one for commands (shared
 * with the {@link RedisStore}), one subscribed to presence, one blocked reading the inbox.
 */
export class ClusterNode {
  readonly id: string;
  readonly keys: RedisKeys;
  readonly redis: Redis;
  readonly store: RedisStore;
  readonly presence: ClusterPresence;
  readonly inbox: ClusterInbox;
  readonly rooms: ClusterRooms;
  readonly rates: ClusterRates;
  readonly connections: ClusterConnections;
  #connectionCounts: (() => ReadonlyMap<string, number>) | undefined;
  #penalize: ((key: string, until: number) => void) | undefined;
  #sub: Redis;
  #url: string;
  #logger: Logger;
  #heartbeatMs: number;
  #timer: NodeJS.Timeout | undefined;
  #info = '';
  #rttMs = 0;
  #errors = 0;
  #nodes = 1;
  #stopped = false;

  constructor(options: ClusterOptions) {
    this.id = `${hostname().slice(0, 32)}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.keys = new RedisKeys(options.prefix ?? 'securechat');
    this.#url = options.url;
    this.#logger = options.logger.child({ node: this.id });
    this.#heartbeatMs = options.heartbeatMs ?? 5000;
    const connection = {
      // Commands fail at once while Redis is unreachable (the client gets an error code)
      // instead of queueing; the client library reconnects with backoff.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
      lazyConnect: true,
    };
    // Commands issued in one event-loop turn go out in one write; not XADD: the relays to
    // other nodes are batched already (Outbox), and go at once.
    this.redis = new Redis(options.url, {
      ...connection,
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: ['xadd'],
    });
    // Named, so an operator (or a test) can tell it apart in CLIENT LIST.
    this.#sub = new Redis(options.url, { ...connection, connectionName: `sub:${this.id}` });
    const reader = new Redis(options.url, { ...connection, enableOfflineQueue: true });
    for (const client of [this.redis, this.#sub, reader]) {
      client.on('error', (error: Error) => {
        this.#errors++;
        this.#logger.debug({ event: 'cluster.redis_error', err: error.message });
      });
    }
    this.store = new RedisStore(this.redis, { prefix: this.keys.prefix, nodeId: this.id });
    this.inbox = new ClusterInbox({
      redis: this.redis,
      reader,
      keys: this.keys,
      node: this.id,
      logger: this.#logger,
      timeoutMs: options.relayTimeoutMs ?? 5000,
    });
    this.rates = new ClusterRates(this.redis, this.keys);
    this.connections = new ClusterConnections({
      redis: this.redis,
      keys: this.keys,
      node: this.id,
      limits: options.connectionLimits ?? {
        maxConnections: Number.MAX_SAFE_INTEGER,
        maxPerIp: Number.MAX_SAFE_INTEGER,
      },
      logger: this.#logger,
    });
    this.rooms = new ClusterRooms({
      redis: this.redis,
      keys: this.keys,
      node: this.id,
      logger: this.#logger,
      post: (node, json) => this.inbox.post(node, json),
    });
    this.presence = new ClusterPresence({
      redis: this.redis,
      keys: this.keys,
      node: this.id,
      logger: this.#logger,
      forward: (node, from, relay, answered, context) =>
        this.inbox.forward(node, from, relay, answered, context),
      kick: (entry) => this.inbox.kick(entry.node, entry.name, entry.sid),
    });
  }

  /**
   * Connects (waiting for Redis as `wait` says), and refuses to go on when the cluster's
   * certificate pin differs from `pin`.
   */
  async connect(pin: string, wait: RedisWait = { waitMs: 0 }): Promise<void> {
    await waitForRedis([this.redis, this.#sub], this.#url, wait, this.#logger);
    const pinKey = this.keys.key('pin');
    await this.redis.set(pinKey, pin, 'NX');
    const recorded = await this.redis.get(pinKey);
    if (recorded !== pin) {
      throw new Error(
        `this node's certificate (${pin}) differs from the one the cluster serves (${recorded}): every node must serve the same certificate`,
      );
    }
  }

  /** Starts serving: registers, mirrors the other nodes' users, reads the inbox, beats. */
  async start(core: ClusterCore, info: Record<string, unknown>): Promise<void> {
    this.#info = JSON.stringify({ ...info, started: Date.now() });
    this.presence.attach(core.directory, core.presence);
    this.inbox.attach(core.router, (name, sid) => this.presence.kickLocal(name, sid));
    this.rooms.attach(core.rooms);
    this.inbox.onRoomEntry((json) => this.rooms.message(json));
    this.#penalize = core.penalize;
    this.#connectionCounts = () => core.connectionCounts();
    await this.#register();
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel === this.rooms.channel) this.rooms.message(message);
      else if (channel === this.#penaltyChannel) this.#penalized(message);
      else this.presence.message(message);
    });
    this.#sub.on('ready', () => {
      // Reconnected: what was published meanwhile is lost, reload it. 'ready' comes before
      // the client library subscribes again; a ping queued after that subscription answers
      // once it is active, so nothing published after the reload's reads is missed.
      if (this.#stopped) return;
      setImmediate(() => {
        this.#sub
          .ping()
          .then(async () => {
            this.#logger.warn(
              { event: 'cluster.resubscribed' },
              'subscription to the other nodes restarted: reloading presence and rooms',
            );
            await Promise.all([this.presence.reload(), this.rooms.reload(), this.#loadPenalties()]);
          })
          .catch((error: unknown) => this.#failed('reload', error));
      });
    });
    await this.#sub.subscribe(this.presence.channel, this.rooms.channel, this.#penaltyChannel);
    await Promise.all([this.presence.reload(), this.#loadPenalties()]);
    this.redis.on('ready', () => {
      if (!this.#stopped) this.#beat(true).catch(() => {});
    });
    this.inbox.start();
    // Beats twice per period: a node's key lives two periods, so a dead node is reaped
    // within 2.5 periods (12.5 s by default) of its last beat.
    this.#timer = setInterval(
      () => void this.#beat(false).catch(() => {}),
      Math.max(50, this.#heartbeatMs / 2),
    );
    this.#timer.unref?.();
    this.#logger.info({ event: 'cluster.joined', node: this.id }, 'joined the cluster');
  }

  async #register(): Promise<void> {
    await this.redis.set(this.keys.key('node', this.id), this.#info, 'PX', this.#heartbeatMs * 2);
    await this.redis.sadd(this.keys.key('nodes'), this.id);
    await this.inbox.prepare();
  }

  /** Refreshes this node's key (registering everything again when Redis had lost it) and reaps dead nodes. */
  async #beat(reconnected: boolean): Promise<void> {
    const started = performance.now();
    const alive = await this.redis.set(
      this.keys.key('node', this.id),
      this.#info,
      'PX',
      this.#heartbeatMs * 2,
      'XX',
    );
    this.#rttMs = performance.now() - started;
    if (alive === null || reconnected) {
      this.#logger.warn({ event: 'cluster.reregister' }, 'Redis lost this node: registering again');
      await this.#register();
      await this.presence.reregister();
    }
    // Every beat, not only after a reconnect: a close that could not be counted while Redis
    // was unreachable (or raced a reconnect) leaves the shared counts off until put right.
    await this.connections.resync(this.#connectionCounts?.() ?? new Map());
    const nodes = await this.redis.smembers(this.keys.key('nodes'));
    let live = 0;
    for (const node of nodes) {
      if (node === this.id || (await this.redis.exists(this.keys.key('node', node)))) {
        live++;
        continue;
      }
      await this.#reap(node);
    }
    this.#nodes = live;
  }

  /** One node (whoever takes the lock first) clears a dead node's state. */
  async #reap(node: string): Promise<void> {
    const lock = await this.redis.set(this.keys.key('reaping', node), this.id, 'PX', 30_000, 'NX');
    if (lock === null) return;
    const users = await this.presence.reap(node);
    await this.redis.del(this.inbox.stream(node));
    await this.rooms.reap(node);
    await this.store.rooms.dropNode(node, Date.now());
    await this.connections.release(node);
    await this.redis.srem(this.keys.key('nodes'), node);
    this.#logger.warn(
      { event: 'cluster.node_gone', gone: node, users },
      'a node stopped beating: its users left',
    );
  }

  /** Stops beating and reading without telling anyone, as a killed process would (tests). */
  freeze(): void {
    clearInterval(this.#timer);
    this.inbox.stop().catch(() => {});
  }

  /** Runs a heartbeat (and reaping) now; tests call it instead of waiting. */
  beat(): Promise<void> {
    return this.#beat(false);
  }

  async #loadPenalties(): Promise<void> {
    for (const [key, until] of await this.connections.penalties(Date.now()))
      this.#penalize?.(key, until);
  }

  get #penaltyChannel(): string {
    return this.keys.key('penalty');
  }

  #penalized(json: string): void {
    try {
      const { key, until } = JSON.parse(json) as { key: string; until: number };
      if (typeof key === 'string' && typeof until === 'number') this.#penalize?.(key, until);
    } catch {
      // not ours
    }
  }

  /** Name rates for the whole cluster. */
  sharedNames(limits: NameLimits): SharedNameRates {
    return new ClusterNames(this.rates, limits);
  }

  /** Bundle limits for the whole cluster. */
  sharedBundles(limits: BundleLimits): SharedBundleRates {
    return sharedBundleRates(this.rates, limits);
  }

  /**
   * A strike toward the penalty box, counted for the whole cluster: at `strikes` within
   * `penaltyMs`, every node refuses `key` for `penaltyMs`.
   */
  strike(key: string, now: number, strikes: number, penaltyMs: number): void {
    const window = { key: `strikes:${key}`, limit: strikes - 1, windowMs: penaltyMs };
    this.rates
      .take([window], now)
      .then(async (taken) => {
        if (taken.ok) return;
        await this.connections.penalize(key, penaltyMs);
        await this.redis.publish(
          this.#penaltyChannel,
          JSON.stringify({ key, until: now + penaltyMs }),
        );
        this.#penalize?.(key, now + penaltyMs);
      })
      .catch((error: unknown) => this.#failed('strike', error));
  }

  /** Hooks for the session layer. */
  claim(sid: string, hello: HelloFrame): Promise<void> {
    return this.presence.claim(sid, hello);
  }
  unclaim(sid: string, name: string): Promise<void> {
    return this.presence.unclaim(sid, name);
  }
  joined(member: DirectoryMember): void {
    if (isRemote(member)) return;
    this.presence
      .joined(member as LocalMember)
      .catch((error: unknown) => this.#failed('join', error));
  }
  left(member: DirectoryMember): void {
    if (isRemote(member)) return;
    this.presence
      .left(member as LocalMember)
      .catch((error: unknown) => this.#failed('leave', error));
  }

  #failed(what: string, error: unknown): void {
    this.#errors++;
    this.#logger.warn(
      { event: 'cluster.presence_failed', what, err: error },
      'presence update failed',
    );
  }

  figures(usersInCluster: number): ClusterFigures {
    return {
      node: this.id,
      nodes: this.#nodes,
      usersHere: this.presence.localCount,
      usersInCluster,
      ...this.inbox.relayFigures(),
      redisRttMs: this.#rttMs,
      redisErrors: this.#errors,
      connected: this.redis.status === 'ready',
    };
  }

  /** Leaves the cluster: sessions were closed (their names released); unregisters and disconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.inbox.stop();
    try {
      await this.presence.reap(this.id);
      await this.rooms.reap(this.id);
      await this.store.rooms.dropNode(this.id, Date.now());
      await this.connections.release(this.id);
      await this.redis.del(this.keys.key('node', this.id), this.inbox.stream(this.id));
      await this.redis.srem(this.keys.key('nodes'), this.id);
    } catch {
      // Redis unreachable: the others reap this node once its key expires.
    }
    this.#sub.disconnect();
    this.redis.disconnect();
  }
}
