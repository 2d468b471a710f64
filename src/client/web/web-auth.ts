import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The session cookie's name; the port is part of it because cookies ignore ports. */
export function sessionCookieName(port: number): string {
  return `securechat_${port}`;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function sameSecret(a: string, b: string): boolean {
  // Hash first: equal lengths for timingSafeEqual, and no early exit on length.
  return timingSafeEqual(digest(a), digest(b));
}

/** Live browser sessions kept (each from its own token); the oldest is dropped past it. */
const MAX_SESSIONS = 8;

/**
 * Who may use the local web UI: whoever holds the one-time token printed in the terminal,
 * exchanged once for a session cookie (HttpOnly, SameSite=Strict), then refused.
 */
export class WebAuth {
  #token: string | undefined;
  #sessions: string[] = [];

  constructor() {
    this.#token = randomBytes(32).toString('base64url');
  }

  /** The current one-time token, or undefined once used. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Spends the token: a new session secret for a cookie, or undefined if it is not the token. */
  exchange(candidate: string): string | undefined {
    const token = this.#token;
    if (token === undefined || !sameSecret(candidate, token)) return undefined;
    this.#token = undefined;
    const session = randomBytes(32).toString('base64url');
    this.#sessions.push(session);
    if (this.#sessions.length > MAX_SESSIONS) this.#sessions.shift();
    return session;
  }

  /** Whether a Cookie header carries a live session under `name`. */
  admits(cookieHeader: string | undefined, name: string): boolean {
    const value = cookieValue(cookieHeader, name);
    if (value === undefined) return false;
    let found = false;
    for (const session of this.#sessions) if (sameSecret(value, session)) found = true;
    return found;
  }
}

/** One cookie's value from a Cookie header (the first with that name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The Host values the local server answers to: what the printed URL uses, and the other
 * loopback spellings of the same port. Anything else (a rebinding attacker's DNS name)
 * is refused.
 */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The Origins allowed to open the WebSocket: the page itself, on a loopback host. */
export function allowedOrigins(port: number): Set<string> {
  return new Set([...allowedHosts(port)].map((host) => `http://${host}`));
}
