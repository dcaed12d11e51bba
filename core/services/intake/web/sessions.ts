/**
 * Server-side login sessions of the web form. A session id is 32 random bytes
 * (base64url) that only the browser's cookie holds; the server keeps its SHA-256
 * with the credential record (id, hash, kind — never the secret), a CSRF token of
 * 32 random bytes bound to that session, and an absolute expiry. The map is
 * bounded: when full, expired sessions go first, then the oldest.
 *
 * @module
 */
import { sha256Hex, utf8 } from "../../../primitives/crypto/bytes.ts";
import type { OperatorToken } from "../../runtime/protocol.ts";
import type { Clock } from "../../../primitives/time/clock.ts";

/** How long a login lasts: one hour. */
export const SESSION_TTL_MS = 60 * 60 * 1000;
/** Most live sessions kept. */
export const MAX_SESSIONS = 256;

/** A logged-in browser. */
export interface WebSession {
  credential: OperatorToken;
  /** The token every POST of this session must carry. */
  csrf: string;
  expiresAt: number;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * The session map.
 *
 * @example
 * ```ts
 * import { WebSessions } from "./sessions.ts";
 * let now = 0;
 * const sessions = new WebSessions({ now: () => now });
 * const who = { id: "ops", sha256: "0".repeat(64), kind: "person" as const };
 * const { id } = await sessions.create(who);
 * if ((await sessions.get(id))?.credential.id !== "ops") throw new Error();
 * now = 2 * 60 * 60 * 1000;
 * if (await sessions.get(id) !== undefined) throw new Error();
 * ```
 */
export class WebSessions {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #byHash = new Map<string, WebSession>();

  /** Creates an empty map. */
  constructor(clock: Clock, options: { ttlMs?: number; max?: number } = {}) {
    this.#clock = clock;
    this.#ttlMs = options.ttlMs ?? SESSION_TTL_MS;
    this.#max = options.max ?? MAX_SESSIONS;
  }

  /** Seconds a new session lives (the cookie's `Max-Age`). */
  get ttlSeconds(): number {
    return Math.floor(this.#ttlMs / 1000);
  }

  /** Starts a session for `credential`; returns its id (for the cookie) and the session. */
  async create(credential: OperatorToken): Promise<{ id: string; session: WebSession }> {
    const now = this.#clock.now();
    if (this.#byHash.size >= this.#max) {
      for (const [key, s] of this.#byHash) if (s.expiresAt <= now) this.#byHash.delete(key);
    }
    while (this.#byHash.size >= this.#max) {
      // Map iteration is insertion order: the first key is the oldest session
      this.#byHash.delete(this.#byHash.keys().next().value!);
    }
    const id = randomToken();
    const session = { credential, csrf: randomToken(), expiresAt: now + this.#ttlMs };
    this.#byHash.set(await sha256Hex(utf8(id)), session);
    return { id, session };
  }

  /** The live session with this id, or `undefined` (an expired one is removed). */
  async get(id: string | undefined): Promise<WebSession | undefined> {
    if (id === undefined) return undefined;
    const key = await sha256Hex(utf8(id));
    const session = this.#byHash.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#clock.now()) {
      this.#byHash.delete(key);
      return undefined;
    }
    return session;
  }

  /** Ends the session with this id. */
  async delete(id: string): Promise<void> {
    this.#byHash.delete(await sha256Hex(utf8(id)));
  }

  /** Number of sessions held (live or not yet swept). */
  get size(): number {
    return this.#byHash.size;
  }
}
