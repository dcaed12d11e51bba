/**
 * The defences the defence-off tests disable, one source edit each, in a copy
 * of the repository (never in the product: no flag or variable can do this).
 *
 * @module
 */
import type { Patch } from "./_tree.ts";

/** verifySignatures() accepts any number of valid signatures, even zero. */
export const SIGNATURE_OFF: Patch = {
  file: "core/primitives/dsse/verify.ts",
  from: "if (count < set.threshold) {",
  to: "if (count < 0) {",
};

/** The validator ignores a failed replay claim (step 14). */
export const REPLAY_OFF: Patch = {
  file: "core/domain/validate/validator.ts",
  from: 'if (!first) throw refuse(14, "replay", "its id was already processed", ids);',
  to: "void first;",
};

/** The validator skips the receiver's side of the edge check (step 7). */
export const EDGE_OFF: Patch = {
  file: "core/domain/validate/validator.ts",
  from: "    if (!receives) {",
  to: "    if (false as boolean && !receives) {",
};

/** Every agent is spawned with `--allow-read` (all files) instead of its derived read grant. */
export const DENO_READ_OFF: Patch = {
  file: "core/services/supervisor/agent_command.ts",
  from: "    ...flags,\n    entry,\n  ];",
  to:
    '    ...flags.map((f) => f.startsWith("--allow-read=") ? "--allow-read" : f),\n    entry,\n  ];',
};

/** The operating-system sandbox renders to nothing: the Deno command runs as it is. */
export const OS_SANDBOX_OFF: Patch = {
  file: "core/services/supervisor/sandbox_argv.ts",
  from: "  const { spec, host, identity } = options;\n",
  to:
    "  const { spec, host, identity } = options;\n  if (spec !== undefined) return [...options.inner];\n",
};
