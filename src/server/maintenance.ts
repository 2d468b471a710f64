import { nameKey } from '../protocol/index.js';
import type { ServerConfig } from './config.js';
import type { FileService } from './files/index.js';
import type { Logger } from './logger.js';
import type { RoomService } from './rooms/room-service.js';
import type { RelayRouter } from './router.js';
import type { Session } from './session.js';
import type { ServerStore } from './store/index.js';

export interface Maintenance {
  /** Closes sessions silent for longer than their version's idle timeout. */
  sweepIdle(): void;
  /** Expires stored messages, unused names and empty rooms. */
  sweepStore(): Promise<void>;
  /** How often {@link sweepIdle} should run. */
  readonly idleIntervalMs: number | undefined;
}

/**
 * The periodic housekeeping of one server, on its (injectable) clock: idle timeouts (v2
 * clients ping; v1 clients never do, so theirs is at least an hour), mailbox expiry, names
 * unused for their lifetime (online names are touched first, so nobody loses a name while
 * using it), rooms empty for too long, and files past their time to live.
 */
export function createMaintenance(o: {
  config: ServerConfig;
  sessions: ReadonlySet<Session>;
  router: RelayRouter<Session>;
  rooms: RoomService<Session>;
  files?: FileService<Session>;
  store: ServerStore;
  logger: Logger;
  now: () => number;
}): Maintenance {
  const { config } = o;
  const timeoutFor = (version: number) =>
    version >= 2 ? config.idleTimeoutMs : version === 1 ? config.v1IdleTimeoutMs : 0;
  const shortest = Math.min(
    ...[config.idleTimeoutMs, config.v1IdleTimeoutMs].filter((ms) => ms > 0),
  );
  return {
    idleIntervalMs: Number.isFinite(shortest)
      ? Math.max(250, Math.min(15_000, shortest / 4))
      : undefined,
    sweepIdle() {
      const now = o.now();
      for (const session of o.sessions) {
        const timeout = timeoutFor(session.version);
        if (timeout > 0 && session.lastActivity < now - timeout) session.idleTimeout();
      }
    },
    async sweepStore() {
      const now = o.now();
      const expired = await o.router.expire();
      if (expired > 0) o.logger.info({ event: 'mailbox.expired', messages: expired });
      const online = new Set<string>();
      for (const session of o.sessions)
        if (session.identityKey !== undefined && session.open) online.add(nameKey(session.name));
      await o.store.touchBindings([...online], now);
      const freed = await o.store.expireBindings(
        now,
        { trialTtlMs: config.nameTrialTtlMs, ttlMs: config.nameTtlMs },
        (name) => online.has(nameKey(name)),
      );
      if (freed.length > 0) o.logger.info({ event: 'names.expired', names: freed.length });
      o.files?.sweep();
      const rooms = await o.rooms.sweep();
      if (rooms > 0) o.logger.info({ event: 'rooms.expired', rooms });
    },
  };
}
