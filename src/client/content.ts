import { ErrorCode, isValidRoom, ProtocolError } from '../protocol/index.js';

/**
 * What a v2 (ratchet) message carries, as JSON inside the encryption: a text, an action,
 * or a room sender key. (v1 envelopes carry bare text, as the seed protocol does.)
 */
export type PairwiseContent =
  | { t: 'text'; text: string }
  | { t: 'action'; text: string }
  | {
      t: 'sk';
      room: string;
      keyId: number;
      iteration: number;
      chainKey: string;
      signingKey: string;
    };

export function encodeContent(content: PairwiseContent): string {
  return JSON.stringify(content);
}

const isUint32 = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff;

/** @throws ProtocolError `E_BAD_FIELD` for anything else. */
export function decodeContent(text: string): PairwiseContent {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'message content is not JSON');
  }
  if (typeof value !== 'object' || value === null)
    throw new ProtocolError(ErrorCode.BAD_FIELD, 'message content is not an object');
  if ((value.t === 'text' || value.t === 'action') && typeof value.text === 'string')
    return { t: value.t, text: value.text };
  if (
    value.t === 'sk' &&
    isValidRoom(value.room) &&
    isUint32(value.keyId) &&
    isUint32(value.iteration) &&
    typeof value.chainKey === 'string' &&
    typeof value.signingKey === 'string'
  ) {
    return {
      t: 'sk',
      room: value.room,
      keyId: value.keyId,
      iteration: value.iteration,
      chainKey: value.chainKey,
      signingKey: value.signingKey,
    };
  }
  throw new ProtocolError(ErrorCode.BAD_FIELD, 'unknown message content');
}
