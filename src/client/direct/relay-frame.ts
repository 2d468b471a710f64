/**
 * A relay to send, in our canonical key order (`type`, `to`, `alg`, `header`, `nonce`,
 * `cipher`, `id`), which our server forwards by its fast path without parsing the line.
 * `from` is written only for servers that do not set it themselves: a v2 server (ours)
 * overwrites any client `from` with the session's name, a seed (v1) server forwards the
 * client's. Extra envelope fields follow `cipher` (such a line takes the full parser).
 * @param from the sender's name, or undefined when the server sets it.
 */
export function relayFrame(
  to: string,
  /** The sealed part: `alg`, `nonce`, `cipher`, and `header` (ratchet) or other fields. */
  envelope: Readonly<Record<string, string>>,
  id?: string,
  from?: string,
): Record<string, unknown> {
  const { alg, header, nonce, cipher, ...rest } = envelope;
  return {
    type: 'relay',
    to,
    ...(from === undefined ? {} : { from }),
    alg,
    ...(header === undefined ? {} : { header }),
    nonce,
    cipher,
    ...rest,
    ...(id === undefined ? {} : { id }),
  };
}

/** The `from` to write to a server that announced protocol `version` (see relayFrame). */
export function senderFieldFor(version: number | undefined, name: string): string | undefined {
  return version !== undefined && version >= 2 ? undefined : name;
}
