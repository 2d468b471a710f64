import { LabeledCounter } from '../stats.js';

/** Counters of the file service (exported as Prometheus metrics, see metrics.ts). */
export class FileStats {
  announced = 0;
  uploaded = 0;
  chunksIn = 0;
  chunksOut = 0;
  /** Base64 bytes of chunks received and sent. */
  bytesIn = 0;
  bytesOut = 0;
  /** Files deleted, by reason: downloaded, withdrawn, expired. */
  deleted = new LabeledCounter();
  /** File frames refused, by error code. */
  refused = new LabeledCounter();
}
