import type { AdmitRefusal } from './connection-limiter.js';

/**
 * A second, shared check of the connection caps after the node's own
 * {@link ConnectionLimiter} admitted a connection (a cluster node counts every node's
 * connections in Redis: cluster/cluster-connections.ts). It never refuses for being
 * unreachable: the node's own limits stay the floor.
 */
export interface ConnectionGate {
  /** Takes a shared slot for a connection from `address`, or says why it is refused. */
  open(address: string): Promise<AdmitRefusal | undefined>;
  /** A connection admitted by {@link open} closed. */
  close(address: string): void;
}
