/**
 * Peer text for the page. Preact puts it in text nodes (never parsed as HTML); what is left
 * to do is make invisible characters visible: C0 controls (but newline and tab), DEL, C1,
 * and the bidi and zero-width format characters that could reorder or hide what is shown.
 */
const HIDDEN =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

export function visible(text: string): string {
  return text.replace(
    HIDDEN,
    (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`,
  );
}

/** The 60 digits in 12 groups of 5, as the terminal shows them. */
export function groupDigits(digits: string): string[] {
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 5) groups.push(digits.slice(i, i + 5));
  return groups;
}

export const PROTECTION_LABEL: Record<string, { label: string; title: string }> = {
  'e2ee-v2': {
    label: 'E2EE',
    title: 'end-to-end encrypted: identity-checked, forward secret (X3DH + Double Ratchet)',
  },
  'e2ee-pq': {
    label: 'E2EE PQ',
    title: 'end-to-end encrypted, session set up with post-quantum PQXDH',
  },
  'e2ee-room': {
    label: 'room E2EE',
    title: 'end-to-end encrypted room message (sender keys, signed)',
  },
  'e2ee-v1': { label: '⚠ E2EE v1', title: 'legacy v1 encryption: no identity, no forward secrecy' },
  'server-readable': {
    label: 'server can read',
    title: 'readable by the server, by design (/server)',
  },
};

export const DELIVERY_MARK: Record<string, { mark: string; title: string }> = {
  queued: { mark: '…', title: 'queued: waiting for the connection' },
  sent: { mark: '✓', title: 'sent to the server' },
  delivered: { mark: '✓✓', title: "delivered to the recipient's connection" },
  stored: { mark: '✓ stored', title: 'the recipient is offline: the server keeps it for them' },
  failed: { mark: '✗ failed', title: 'not delivered' },
};

export const KEY_MARK: Record<string, { mark: string; title: string }> = {
  verified: { mark: '✔', title: 'verified by safety number' },
  changed: { mark: '⚠ key changed', title: 'identity key changed: verify before trusting' },
  new: { mark: 'new', title: 'key seen for the first time (trust on first use)' },
  known: { mark: '', title: 'known key (not verified)' },
  legacy: { mark: 'v1', title: 'legacy client: no identity key' },
  invalid: { mark: '⚠ invalid', title: 'key signature did not verify' },
  online: { mark: '', title: 'known key (not verified)' },
};

export function clock(ts: number): string {
  const date = new Date(ts);
  return Number.isNaN(date.getTime())
    ? '--:--'
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
