/**
 * Every fuzz target of a home, with its seeds verified: the fixed-key targets
 * and the envelope validators of the home. Call without write access to the
 * home's vault.
 *
 * @module
 */
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { prepare, type PreparedTarget } from "./engine.ts";
import { fixedTargets } from "./targets_fixed.ts";
import { homeTargets } from "./targets_home.ts";

/** Options for {@linkcode allTargets}. */
export interface AllTargetsOptions {
  home: HomeLayout;
  /** The repository's `vault/` sources. */
  sources: string;
  /** The fixed clock the home was made with. */
  clock: Clock;
}

/** Builds and prepares every target. */
export async function allTargets(options: AllTargetsOptions): Promise<PreparedTarget[]> {
  return await prepare([...await fixedTargets(), ...await homeTargets(options)]);
}

/** Targets by kind (for corpus replay). */
export function byKind(targets: readonly PreparedTarget[]): Map<string, PreparedTarget> {
  return new Map(targets.map((t) => [t.target.kind, t]));
}
