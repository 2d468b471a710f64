import type { ServerConfig } from './config.js';
import { PeerDirectory } from './directory.js';
import type { ConnectionLimiter } from './limits/connection-limiter.js';
import type { Logger } from './logger.js';
import { NameQuota } from './name-quota.js';
import { PrekeyService } from './prekey-service.js';
import { PresenceBroadcaster } from './presence.js';
import { PasswordLockout } from './rooms/lockout.js';
import { PasswordGate, type RoomPasswordHasher } from './rooms/password-gate.js';
import { RoomService } from './rooms/room-service.js';
import { RelayRouter } from './router.js';
import type { Session, SessionContext } from './session.js';
import { ServerStats } from './stats.js';
import type { ServerStore } from './store/index.js';

/** The services every session shares, built from the configuration. */
export function createSessionContext(
  config: ServerConfig,
  logger: Logger,
  deps: {
    store: ServerStore;
    hasher: RoomPasswordHasher;
    limiter: ConnectionLimiter;
    now: () => number;
  },
): SessionContext<Session> {
  const { store, hasher, limiter, now } = deps;
  const stats = new ServerStats();
  const directory = new PeerDirectory<Session>();
  const online = (name: string) => directory.get(name);
  const gate = new PasswordGate(
    hasher,
    new PasswordLockout({
      attempts: config.roomPasswordAttempts,
      windowMs: config.roomPasswordWindowMs,
      lockMs: config.roomLockoutMs,
    }),
    config.passwordQueue,
  );
  return {
    directory,
    presence: new PresenceBroadcaster(directory),
    router: new RelayRouter<Session>({
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
    }),
    prekeys: new PrekeyService<Session>({
      store,
      online,
      stats,
      limits: {
        perMinute: config.bundlesPerMinute,
        opksPerTargetPerHour: config.bundleOpksPerTarget,
      },
      now,
    }),
    rooms: new RoomService<Session>({
      store,
      gate,
      logger,
      stats,
      admins: new Set(config.admins),
      ...(config.lobby ? { lobby: config.lobby } : {}),
      limits: {
        roomsPerIdentity: config.roomsPerIdentity,
        maxRooms: config.maxRooms,
        ttlMs: config.roomTtlMs,
      },
      now,
    }),
    names: new NameQuota(store, {
      namesPerIdentity: config.namesPerIdentity,
      newNamesPerIdentity: config.newNamesPerIdentity,
      newNamesPerAddress: config.newNamesPerAddress,
      newNamesPerHour: config.newNamesPerHour,
    }),
    store,
    logger,
    stats,
    limits: {
      maxLineBytes: config.maxLineBytes,
      helloTimeoutMs: config.helloTimeoutMs,
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
        }
      : {}),
    onAbuse({ addressKey: address, identityKey, reason }) {
      // A shared address stands for many clients: strike the identity, not everyone.
      const key = address ?? (identityKey ? `id:${identityKey}` : undefined);
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
    now,
  };
}
