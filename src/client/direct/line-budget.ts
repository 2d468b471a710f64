/**
 * Whether a message fits the server's line limit once encrypted, decided before anything
 * is shown or sent: a line over the limit makes the server close the connection
 * (`E_FRAME_TOO_LONG`), so the message would fail after a reconnect instead of being
 * refused at once with the limit named.
 *
 * The estimate is deliberately generous to the envelope: the text as JSON (the content
 * encoding escapes quotes and control characters), the AEAD tag and content fields, base64
 * (4/3), and a fixed allowance for the frame's other fields (ratchet header, session setup
 * keys, ids). A message refused here would have been within a few KiB of the limit.
 */

/** Bytes of a relayed frame besides its base64 ciphertext (headers, keys, ids), at most. */
export const ENVELOPE_ALLOWANCE_BYTES = 4096;
/** Content framing and AEAD tag around the text, at most. */
const CONTENT_ALLOWANCE_BYTES = 128;

/** Upper estimate of the frame bytes that carry `text`. */
export function sealedLineBytes(text: string): number {
  const content = Buffer.byteLength(JSON.stringify(text), 'utf8') + CONTENT_ALLOWANCE_BYTES;
  return 4 * Math.ceil(content / 3) + ENVELOPE_ALLOWANCE_BYTES;
}

/** About how many plain ASCII characters fit a line of `maxLineBytes`. */
export function maxTextLength(maxLineBytes: number): number {
  const content = Math.floor(((maxLineBytes - ENVELOPE_ALLOWANCE_BYTES) * 3) / 4);
  return Math.max(0, content - CONTENT_ALLOWANCE_BYTES - 2);
}

/** Why `text` cannot be sent to a server taking lines up to `maxLineBytes`, or undefined. */
export function tooLongReason(text: string, maxLineBytes: number): string | undefined {
  if (sealedLineBytes(text) <= maxLineBytes) return undefined;
  const length = [...text].length.toLocaleString('en-US');
  const limit = maxTextLength(maxLineBytes).toLocaleString('en-US');
  return (
    `not sent: the message is too long (${length} characters; this server takes lines of ` +
    `${maxLineBytes.toLocaleString('en-US')} bytes, about ${limit} characters of plain text once encrypted)`
  );
}
