import type { Registry } from 'prom-client';
import { counterFrom, gaugeFrom, labeledCounterFrom } from '../metrics.js';
import type { FileService, FileSession } from './file-service.js';

/** The file service's metrics: chunk store usage, uploads, chunks and bytes both ways, deletions, refusals. */
export function registerFileMetrics<S extends FileSession>(
  registry: Registry,
  files: FileService<S>,
): void {
  const s = files.stats;
  gaugeFrom(
    registry,
    'securechat_files_stored',
    'Files in the chunk store',
    () => files.store.usage().files,
  );
  gaugeFrom(
    registry,
    'securechat_files_stored_bytes',
    'Sealed bytes announced in the chunk store',
    () => files.store.usage().bytes,
  );
  const counters: Array<[string, string, () => number]> = [
    [
      'securechat_files_announced_total',
      'File uploads announced (fnew accepted)',
      () => s.announced,
    ],
    ['securechat_files_uploaded_total', 'File uploads completed', () => s.uploaded],
    ['securechat_file_chunks_in_total', 'Sealed chunks stored', () => s.chunksIn],
    ['securechat_file_chunks_out_total', 'Sealed chunks sent to recipients', () => s.chunksOut],
    [
      'securechat_file_bytes_in_total',
      'Sealed chunk bytes received (ciphertext and tags, without Base64)',
      () => s.bytesIn,
    ],
    [
      'securechat_file_bytes_out_total',
      'Sealed chunk bytes sent (ciphertext and tags, without Base64)',
      () => s.bytesOut,
    ],
  ];
  for (const [name, help, read] of counters) counterFrom(registry, name, help, read);
  labeledCounterFrom(
    registry,
    'securechat_files_deleted_total',
    'Files deleted, by reason (downloaded, withdrawn, expired)',
    'reason',
    () => s.deleted,
  );
  labeledCounterFrom(
    registry,
    'securechat_file_refused_total',
    'File frames refused, by error code',
    'code',
    () => s.refused,
  );
}
