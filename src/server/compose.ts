import { dirname, join } from 'node:path';
import { FILES_MIN_MAX_LINE_BYTES, PQ_MIN_MAX_LINE_BYTES } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { ServerConfig } from './config.js';
import { PeerDirectory } from './directory.js';
import { ChunkStore, FileService, FileStats } from './files/index.js';
import { ConnectionLimiter } from './limits/connection-limiter.js';
import type { Logger } from './logger.js';
import { createMaintenance, type Maintenance } from './maintenance.js';
import { type NameLimits, NameQuota, type SharedNameRates } from './name-quota.js';
import { type BundleLimits, PrekeyService, type SharedBundleRates } from './prekey-service.js';
import { PresenceBroadcaster, type PresenceObserver } from './presence.js';
import {
  type AttemptLedger,
  PasswordGate,
  type RoomPasswordHasher,
} from './rooms/password-gate.js';
import type { RoomBus } from './rooms/room-host.js';
import { RoomService } from './rooms/room-service.js';
import { RelayRouter } from './router.js';
import { Session, type SessionContext } from './session.js';
import type { ClusterLink } from './session-context.js';
import { ServerStats } from './stats.js';
import type { LockoutPolicy, ServerStore } from './store/index.js';
import type { Transport } from './transport.js';

/** What the composition root is given: the store, the password hasher and the clock. */
export interface CoreDeps {
  store: ServerStore;
  hasher: RoomPasswordHasher;
  clock: Clock;
  /** Set when this server is one node of a cluster (cluster/cluster-node.ts). */
  cluster?: ClusterDeps;
}

/** What a cluster node (cluster/cluster-node.ts) lends the composition root. */
export interface ClusterDeps extends ClusterLink, PresenceObserver<Session> {
  rooms: RoomBus;
  sharedNames(limits: NameLimits): SharedNameRates;
  sharedBundles(limits: BundleLimits): SharedBundleRates;
  strike(key: string, now: number, strikes: number, penaltyMs: number): void;
}

/**
 * One server without its sockets: every shared service wired from the configuration, the
 * sessions it holds, and its housekeeping. The socket adapter (server.ts) and tests that
 * drive sessions directly (the session fuzzer, the delayed-store race tests) build it the
 * same way and open sessions on their own transports.
 */
export interface ServerCore {
  readonly context: SessionContext<Session>;
  readonly sessions: ReadonlySet<Session>;
  readonly limiter: ConnectionLimiter;
  readonly maintenance: Maintenance;
  /** A session on a transport; it is forgotten once {@link Session.transportClosed} ran. */
  openSession(transport: Transport): Session;
  /** The transport of `session` is gone. */
  closed(session: Session): void;
  /** Tells every client the server stops, closes every session, the hasher and the store. */
  close(): Promise<void>;
}

/** The composition root: builds a {@link ServerCore} and prepares its store. */
export async function composeServer(
  config: ServerConfig,
  logger: Logger,
  deps: CoreDeps,
): Promise<ServerCore> {
  const { store, hasher, clock } = deps;
  const limiter = new ConnectionLimiter({
    maxConnections: config.maxConnections,
    maxPerIp: config.maxConnectionsPerIp,
    penaltyMs: config.penaltyMs,
    strikes: config.strikes,
  });
  const context = createSessionContext(config, logger, { ...deps, limiter });
  await context.rooms.open();
  const sessions = new Set<Session>();
  let nextId = 0;
  return {
    context,
    sessions,
    limiter,
    maintenance: createMaintenance({
      config,
      sessions,
      router: context.router,
      rooms: context.rooms,
      ...(context.files ? { files: context.files } : {}),
      store,
      logger,
      now: () => clock.now(),
    }),
    openSession(transport) {
      const session = new Session((++nextId).toString(36), transport, context);
      sessions.add(session);
      return session;
    },
    closed(session) {
      sessions.delete(session);
      session.transportClosed();
    },
    async close() {
      for (const session of sessions) session.shutdown();
      await context.files?.store.close();
      await hasher.close?.();
      await store.close();
    },
  };
}

/**
 * The chunk store's directory: `--files-dir`, else `files` beside the database; none for an
 * in-memory database without `--files-dir`, or a line limit too small for a chunk.
 */
export function chunkStoreDir(config: ServerConfig): string | undefined {
  if (config.maxLineBytes < FILES_MIN_MAX_LINE_BYTES) return undefined;
  if (config.filesDir !== '') return config.filesDir;
  return config.dataPath === ':memory:' ? undefined : join(dirname(config.dataPath), 'files');
}

/** The services every session shares, built from the configuration. */
function createSessionContext(
  config: ServerConfig,
  logger: Logger,
  deps: CoreDeps & { limiter: ConnectionLimiter },
): SessionContext<Session> {
  const { store, hasher, limiter, clock } = deps;
  const now = () => clock.now();
  const stats = new ServerStats();
  const directory = new PeerDirectory<Session>();
  const online = (name: string) => directory.get(name);
  const router = new RelayRouter<Session>({
    online,
    store,
    stats,
    mailbox: {
      perRecipient: config.mailboxPerRecipient,
      perSender: config.mailboxPerSender,
      ttlMs: config.mailboxTtlMs,
      messageMaxBytes: config.mailboxMessageMaxBytes,
      recipientBytes: config.mailboxRecipientBytes,
      senderBytes: config.mailboxSenderBytes,
      addressBytes: config.mailboxAddressBytes,
      totalBytes: config.mailboxTotalBytes,
      recentMs: config.mailboxRecentMs,
      pageMessages: config.mailboxPageMessages,
      pageBytes: config.mailboxPageBytes,
    },
    now,
  });
  const nameLimits: NameLimits = {
    namesPerIdentity: config.namesPerIdentity,
    newNamesPerIdentity: config.newNamesPerIdentity,
    newNamesPerAddress: config.newNamesPerAddress,
    newNamesPerHour: config.newNamesPerHour,
  };
  const policy: LockoutPolicy = {
    attempts: config.roomPasswordAttempts,
    windowMs: config.roomPasswordWindowMs,
    lockMs: config.roomLockoutMs,
  };
  const ledger: AttemptLedger = {
    lockMs: policy.lockMs,
    lockedFor: (source, room, at) => store.lockout.lockedFor(source, room, at, policy),
    reserve: (source, room, at) => store.lockout.reserve(source, room, at, policy),
    settle: (source, room, ok, at) => store.lockout.settle(source, room, ok, at, policy),
  };
  const rooms = new RoomService<Session>({
    store,
    gate: new PasswordGate(hasher, ledger, config.passwordQueue),
    logger,
    stats,
    admins: new Set(config.admins),
    ...(config.lobby ? { lobby: config.lobby } : {}),
    limits: {
      roomsPerIdentity: config.roomsPerIdentity,
      maxRooms: config.maxRooms,
      ttlMs: config.roomTtlMs,
    },
    router,
    clock,
    ...(deps.cluster ? { bus: deps.cluster.rooms } : {}),
  });
  const filesDir = chunkStoreDir(config);
  const files =
    filesDir === undefined
      ? undefined
      : new FileService<Session>({
          store: new ChunkStore(
            filesDir,
            {
              maxFileBytes: config.maxFileBytes,
              perIdentityBytes: config.fileQuotaPerIdentity,
              totalBytes: config.fileQuotaTotal,
              ttlMs: config.fileTtlMs,
            },
            // (the nodes of a cluster share the directory: each sees the others' uploads)
            { shared: deps.cluster !== undefined },
          ),
          rooms,
          clock,
          stats: new FileStats(),
          logger,
        });
  return {
    directory,
    presence: new PresenceBroadcaster(directory, setImmediate, deps.cluster),
    router,
    prekeys: new PrekeyService<Session>({
      store,
      online,
      stats,
      limits: {
        perMinute: config.bundlesPerMinute,
        opksPerTargetPerHour: config.bundleOpksPerTarget,
      },
      now,
      pq: config.maxLineBytes >= PQ_MIN_MAX_LINE_BYTES,
      ...(deps.cluster
        ? {
            shared: deps.cluster.sharedBundles({
              perMinute: config.bundlesPerMinute,
              opksPerTargetPerHour: config.bundleOpksPerTarget,
            }),
          }
        : {}),
    }),
    rooms,
    ...(files ? { files } : {}),
    names: new NameQuota(store, nameLimits),
    ...(deps.cluster ? { sharedNames: deps.cluster.sharedNames(nameLimits) } : {}),
    store,
    logger,
    stats,
    limits: {
      maxLineBytes: config.maxLineBytes,
      helloTimeoutMs: config.helloTimeoutMs,
      keepAliveV2: config.idleTimeoutMs === 0,
      maxSendQueueBytes: config.maxSendQueueBytes,
      slowReaderGraceMs: config.slowReaderGraceMs,
      log: { burst: config.sessionLogBurst, perMinute: config.sessionLogPerMinute },
    },
    ...(config.rateLimit
      ? {
          rateLimits: {
            framesPerSecond: config.framesPerSecond,
            frameBurst: config.frameBurst,
            bytesPerSecond: config.bytesPerSecond,
            byteBurst: config.byteBurst,
            abuseLimit: config.abuseLimit,
            abuseWindowMs: 10_000,
          },
          fileRate: { bytesPerSecond: config.fileBytesPerSecond, burst: config.fileByteBurst },
        }
      : {}),
    onAbuse({ addressKey: address, identityKey, reason }) {
      // A shared address stands for many clients: strike the identity, not everyone.
      const key = address ?? (identityKey ? `id:${identityKey}` : undefined);
      if (key !== undefined) deps.cluster?.strike(key, now(), config.strikes, config.penaltyMs);
      if (key === undefined || !limiter.strike(key, now())) return;
      stats.securityEvents.inc(address ? 'address_penalized' : 'identity_penalized');
      logger.warn(
        {
          event: address ? 'address.penalized' : 'identity.penalized',
          key,
          reason,
          forMs: config.penaltyMs,
        },
        'repeated abuse',
      );
    },
    penalizedFor: (identityKey) => limiter.penalizedFor(`id:${identityKey}`, now()),
    clock,
    ...(deps.cluster ? { cluster: deps.cluster } : {}),
  };
}
