import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterFigures } from './cluster-node.js';

/** Per-node and cluster figures of a cluster node, read at scrape time. */
export function registerClusterMetrics(registry: Registry, read: () => ClusterFigures): void {
  const registers = [registry];
  new Gauge({
    name: 'securechat_cluster_nodes',
    help: 'Live nodes in the cluster (as of the last heartbeat)',
    registers,
    collect() {
      this.set(read().nodes);
    },
  });
  new Gauge({
    name: 'securechat_cluster_users',
    help: 'Users online on this node and in the whole cluster',
    labelNames: ['scope'],
    registers,
    collect() {
      const f = read();
      this.set({ scope: 'node' }, f.usersHere);
      this.set({ scope: 'cluster' }, f.usersInCluster);
    },
  });
  new Counter({
    name: 'securechat_cluster_relays_total',
    help: 'Relays between nodes: forwarded from here, received here, timed out here',
    labelNames: ['direction'],
    registers,
    collect() {
      const f = read();
      this.reset();
      this.inc({ direction: 'forwarded' }, f.forwarded);
      this.inc({ direction: 'received' }, f.received);
      this.inc({ direction: 'timed_out' }, f.timedOut);
    },
  });
  new Counter({
    name: 'securechat_cluster_stream_entries_total',
    help: 'Node-to-node stream entries: relay entries sent from here (relays forwarded ÷ these = relays per entry), entries read here',
    labelNames: ['direction'],
    registers,
    collect() {
      const f = read();
      this.reset();
      this.inc({ direction: 'sent' }, f.entriesSent);
      this.inc({ direction: 'read' }, f.entriesRead);
    },
  });
  new Counter({
    name: 'securechat_cluster_stream_reads_total',
    help: "Reads of this node's stream that returned entries (entries read ÷ these = entries per read)",
    registers,
    collect() {
      this.reset();
      this.inc(read().reads);
    },
  });
  new Gauge({
    name: 'securechat_redis_rtt_seconds',
    help: 'Round trip of the last heartbeat to Redis',
    registers,
    collect() {
      this.set(read().redisRttMs / 1000);
    },
  });
  new Counter({
    name: 'securechat_redis_errors_total',
    help: 'Redis connection and command errors seen by this node',
    registers,
    collect() {
      this.reset();
      this.inc(read().redisErrors);
    },
  });
  new Gauge({
    name: 'securechat_redis_connected',
    help: '1 while this node is connected to Redis',
    registers,
    collect() {
      this.set(read().connected ? 1 : 0);
    },
  });
}
