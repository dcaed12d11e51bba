/**
 * Expiry while an agent runs. Trust is loaded once, at start, so without these
 * guards a long-running agent would keep trusting a root, a key directory or a
 * tool manifest past its expiry: the directory lookup the validator uses and the
 * ToolGate are wrapped so that both refuse (`expired`) from that moment on.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import type { SenderKeyLookup, SenderKeys } from "../../domain/trust/sender_keys.ts";
import type { ToolGate } from "../../domain/toolgate/gate.ts";

/** A statement whose expiry is re-checked while the agent runs. */
export interface ExpiringStatement {
  /** For the message, e.g. `agent key directory v3`. */
  what: string;
  expires_at: string;
}

/**
 * Refuses (`expired`) once any of `statements` has expired (beyond the skew).
 *
 * @example
 * ```ts
 * import { checkNotExpired } from "./expiry_guards.ts";
 * const at = Date.parse("2026-01-02T00:00:00Z");
 * checkNotExpired([{ what: "trust root v1", expires_at: "2026-01-03T00:00:00Z" }], at, 0);
 * ```
 */
export function checkNotExpired(
  statements: readonly ExpiringStatement[],
  nowMs: number,
  skewMs: number,
): void {
  for (const s of statements) {
    if (nowMs > parseTimestamp(s.expires_at)! + skewMs) {
      throw new SaoeError("expired", `Cannot rely on the ${s.what}: it expired at ${s.expires_at}`);
    }
  }
}

/**
 * The key directory as the validator reads it, refusing with `expired` once the
 * directory or the root that vouches for it has expired.
 *
 * @example
 * ```ts
 * import { expiringDirectory } from "./expiry_guards.ts";
 * const directory = { senderKeys: () => ({ status: "unknown" as const }) };
 * const lookup = expiringDirectory(directory, {
 *   statements: [{ what: "agent key directory v1", expires_at: "2026-01-01T00:00:00Z" }],
 *   skewMs: 0,
 * });
 * let code = "";
 * try {
 *   lookup.senderKeys("planner", Date.parse("2026-02-01T00:00:00Z"));
 * } catch (err) {
 *   code = (err as { code: string }).code;
 * }
 * if (code !== "expired") throw new Error();
 * ```
 */
export function expiringDirectory(
  directory: SenderKeyLookup,
  options: { statements: readonly ExpiringStatement[]; skewMs: number },
): SenderKeyLookup {
  return {
    senderKeys(agent: string, nowMs: number): SenderKeys {
      checkNotExpired(options.statements, nowMs, options.skewMs);
      return directory.senderKeys(agent, nowMs);
    },
  };
}

/** Options for {@linkcode guardToolManifestExpiry}. */
export interface ToolManifestGuardOptions {
  manifest: ExpiringStatement;
  clock: Clock;
  skewMs: number;
  /** Reports the refusal (a `plan_rejected` event). */
  onRefused(err: SaoeError, request: { sessionId: string; envelopeId: string }): Promise<void>;
}

/** A ToolGate that refuses every plan (`expired`) once the tool manifest has expired. */
export function guardToolManifestExpiry(
  gate: ToolGate,
  options: ToolManifestGuardOptions,
): ToolGate {
  return {
    get stopped() {
      return gate.stopped;
    },
    prewarm: () => gate.prewarm(),
    async execute(request) {
      try {
        checkNotExpired([options.manifest], options.clock.now(), options.skewMs);
      } catch (err: unknown) {
        if (err instanceof SaoeError) await options.onRefused(err, request);
        throw err;
      }
      return await gate.execute(request);
    },
  };
}
