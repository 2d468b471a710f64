/**
 * The one case-folding of names. User and room names are ASCII (`[A-Za-z0-9_.-]`, rooms
 * with a leading `#`), so folding is plain ASCII lower-casing: no locale, no Unicode
 * special cases, and the same key on every node, in every store and in every signature.
 */

/**
 * The case-insensitive key under which a user or room name is unique (and under which it
 * is bound into signatures and associated data). ASCII only.
 */
export function foldName(name: string): string {
  return name.toLowerCase();
}

/** The key under which a user name is unique: {@link foldName}. */
export const nameKey: (name: string) => string = foldName;

/** The key under which a room name is unique: {@link foldName}. */
export const roomKey: (room: string) => string = foldName;
