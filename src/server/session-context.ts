import type { HelloFrame } from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { PeerDirectory } from './directory.js';
import type { FrameContext, FrameSession } from './frame-table.js';
import type { RateLimits } from './limits/session-rate.js';
import type { Logger } from './logger.js';
import type { NameQuota, SharedNameRates } from './name-quota.js';
import type { PresenceBroadcaster } from './presence.js';
import type { FileRate } from './session-input.js';
import type { SessionLogBudget } from './session-log.js';
import type { ServerStore } from './store/index.js';

export interface SessionLimits {
  maxLineBytes: number;
  helloTimeoutMs: number;
  /** Queued bytes above which peer traffic is not queued and the client's input pauses. */
  maxSendQueueBytes: number;
  /** A client whose queue stays full this long while peers keep sending is disconnected. */
  slowReaderGraceMs: number;
  /**
   * TCP keepalive for v2 sessions too: when their idle timeout is off, nothing else finds a
   * dead v2 peer (v1 sessions always get it; seed clients never ping).
   */
  keepAliveV2?: boolean;
  /** Log lines one session may cause (the rest is counted). */
  log: SessionLogBudget;
}

/** Where a session reports abuse: the address's (or, behind a shared address, the identity's) strikes. */
export interface AbuseReport {
  addressKey: string | undefined;
  identityKey: string | undefined;
  reason: string;
}

/**
 * A cluster node's hooks (cluster/cluster-node.ts): the name of an admitted session is
 * claimed cluster-wide before it enters (throws `E_NAME_TAKEN` when another node holds it
 * for someone else), and given back when the session closed before entering.
 */
export interface ClusterLink {
  claim(sid: string, hello: HelloFrame): Promise<void>;
  unclaim(sid: string, name: string): Promise<void>;
}

/** Everything sessions share: directory, routing, rooms, store, limits, logging, clock. */
export interface SessionContext<S extends FrameSession> extends FrameContext<S> {
  directory: PeerDirectory<S>;
  presence: PresenceBroadcaster<S>;
  names: NameQuota;
  /** Cluster-wide name rates (a cluster node). */
  sharedNames?: SharedNameRates;
  store: ServerStore;
  logger: Logger;
  limits: SessionLimits;
  /** Per-connection rate limits; undefined disables them. */
  rateLimits?: RateLimits;
  /** Per-connection budget of chunk uploads; undefined: uploads count as chat (or are free with rate limits off). */
  fileRate?: FileRate;
  /** Reports a disconnect for abuse (feeds the penalty box). */
  onAbuse?: (report: AbuseReport) => void;
  /** Milliseconds an identity is still refused for repeated abuse. */
  penalizedFor?: (identityKey: string) => number;
  clock: Clock;
  /** Set when this server is one node of a cluster. */
  cluster?: ClusterLink;
}
