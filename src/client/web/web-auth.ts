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

/** The WebSocket subprotocol the page asks for; the page key travels as a second one. */
export const PAGE_PROTOCOL = 'securechat';

/** What the one-time token is exchanged for. */
export interface WebSession {
  /** The HttpOnly cookie's value: the browser sends it by itself, to any port of this host. */
  cookie: string;
  /**
   * A second secret the page keeps in its own origin's storage (it arrives in the URL
   * fragment, which no server sees) and presents when it opens the WebSocket. A program of
   * another local user listening on another 127.0.0.1 port gets our cookie whenever the
   * browser visits it (cookies ignore ports), but never this.
   */
  pageKey: string;
}

/**
 * Who may use the local web UI: whoever holds the one-time token printed in the terminal,
 * exchanged once for a session (an HttpOnly SameSite=Strict cookie and a page key), then
 * refused. One token per run, so one browser session per run.
 */
export class WebAuth {
  #token: string | undefined;
  #session: WebSession | undefined;

  constructor() {
    this.#token = randomBytes(32).toString('base64url');
  }

  /** The one-time token, or undefined once used. */
  get token(): string | undefined {
    return this.#token;
  }

  /** Spends the token: the new session, or undefined if `candidate` is not the token. */
  exchange(candidate: string): WebSession | undefined {
    const token = this.#token;
    if (token === undefined || !sameSecret(candidate, token)) return undefined;
    this.#token = undefined;
    this.#session = {
      cookie: randomBytes(32).toString('base64url'),
      pageKey: randomBytes(32).toString('base64url'),
    };
    return this.#session;
  }

  /** Whether a Cookie header carries the live session under `name` (page and assets). */
  admits(cookieHeader: string | undefined, name: string): boolean {
    const value = cookieValue(cookieHeader, name);
    return (
      value !== undefined && this.#session !== undefined && sameSecret(value, this.#session.cookie)
    );
  }

  /** Whether a request carries the cookie and the page key (file upload and download). */
  admitsKey(cookieHeader: string | undefined, name: string, key: unknown): boolean {
    return (
      this.admits(cookieHeader, name) &&
      typeof key === 'string' &&
      key.length <= 512 &&
      sameSecret(key, (this.#session as WebSession).pageKey)
    );
  }

  /** Whether a WebSocket upgrade carries the cookie and, as a subprotocol, the page key. */
  admitsSocket(
    cookieHeader: string | undefined,
    name: string,
    protocols: string | undefined,
  ): boolean {
    if (!this.admits(cookieHeader, name) || protocols === undefined || protocols.length > 512)
      return false;
    const offered = protocols.split(',').map((p) => p.trim());
    const session = this.#session as WebSession;
    return (
      offered[0] === PAGE_PROTOCOL &&
      offered.length === 2 &&
      sameSecret(offered[1] as string, session.pageKey)
    );
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
