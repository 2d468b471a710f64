import {
  encodeFilePut,
  encodeFilePutHeader,
  type FileContent,
  fromBase64,
  sealChunkParts,
  toBase64,
} from '../../protocol/index.js';
import type { UploadRecord } from './transfer-record.js';

/**
 * Chunk `index` of an upload (its plaintext `plain`) sealed, as it goes to the server. In
 * binary mode: a short header line, then the sealed bytes (ciphertext, tag) as they are,
 * as the parts of one write (one TLS write; no copy of the chunk to join them). In JSON
 * mode: a pre-encoded `fput` line (no JSON.stringify of 43 KB), starting with
 * FILE_PUT_PREFIX, which the server budgets as file traffic.
 */
export function chunkFrame(
  record: UploadRecord,
  index: number,
  plain: Uint8Array,
  binary: boolean,
): readonly Uint8Array[] | string {
  const [body, tag] = sealChunkParts(
    fromBase64(record.key, 'key', 32),
    { transferId: Buffer.from(record.id, 'hex'), index, final: index === record.chunks - 1 },
    plain,
  );
  if (!binary) return encodeFilePut(record.file!, index, toBase64(Buffer.concat([body, tag])));
  const length = body.length + tag.length;
  return [Buffer.from(encodeFilePutHeader(record.file!, index, length), 'latin1'), body, tag];
}

/** The descriptor of an uploaded file, sent end to end to its recipients (`ts`: now). */
export function fileContent(record: UploadRecord, ts: number): FileContent {
  return {
    t: 'file',
    tid: record.id,
    file: record.file!,
    cap: record.cap!,
    name: record.name,
    size: record.size,
    chunks: record.chunks,
    ...(record.chunkBytes !== undefined ? { cs: record.chunkBytes } : {}),
    mime: record.mime,
    key: record.key,
    digest: record.digest,
    ts,
  };
}
