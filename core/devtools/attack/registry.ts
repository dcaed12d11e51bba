/**
 * Every attack of the red-team suite, in the order of docs/threat-model.md
 * ("The attacks"), by command-line name.
 *
 * @module
 */
import type { Attack } from "./types.ts";
import { tamperedEnvelope } from "./attacks/tampered_envelope.ts";
import { replay } from "./attacks/replay.ts";
import { forgedPlan } from "./attacks/forged_plan.ts";
import { impersonation } from "./attacks/impersonation.ts";
import { hopSkipping } from "./attacks/hop_skipping.ts";
import { parser } from "./attacks/parser.ts";
import { pathTraversal } from "./attacks/path_traversal.ts";
import { vault } from "./attacks/vault.ts";
import { toolSupplyChain } from "./attacks/tool_supply_chain.ts";
import { sandboxEscape } from "./attacks/sandbox_escape.ts";
import { intakeAbuse } from "./attacks/intake_abuse.ts";
import { xss } from "./attacks/xss.ts";
import { ledgerTampering } from "./attacks/ledger_tampering.ts";

/** The attacks `saoe attack all` runs, in order. */
export const ATTACKS: readonly Attack[] = [
  tamperedEnvelope,
  replay,
  forgedPlan,
  impersonation,
  hopSkipping,
  parser,
  pathTraversal,
  vault,
  toolSupplyChain,
  sandboxEscape,
  intakeAbuse,
  xss,
  ledgerTampering,
];

/** Looks an attack up by name; `undefined` when there is none. */
export function attackNamed(name: string): Attack | undefined {
  return ATTACKS.find((a) => a.name === name);
}
