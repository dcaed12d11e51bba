/**
 * Each attack fails when its defence is off: in a copy of the repository with
 * ONE defence patched out (a test build; the product has no switch for this),
 * `saoe attack <name>` must print BREACH and exit 1, while the unpatched tree
 * prints only BLOCKED for the same attacks. Signature and replay here; the edge
 * check and the sandbox in `defence_off_edge_sandbox_test.ts`.
 */
import { REPLAY_OFF, SIGNATURE_OFF } from "./_patches.ts";
import { patchedTree, runSaoe } from "./_tree.ts";
import { assertAllBlocked, assertBreach } from "./_assert_lines.ts";

const DEFENDED = ["tampered-envelope", "replay", "hop-skipping", "sandbox-escape"];

Deno.test({
  name: "the unpatched tree blocks the signature, replay, edge and sandbox attacks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertAllBlocked(await runSaoe(["attack", ...DEFENDED, "--fresh"]), DEFENDED);
  },
});

Deno.test({
  name: "saoe attack tampered-envelope prints BREACH when verifySignatures() ignores the threshold",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tree = await patchedTree(SIGNATURE_OFF);
    assertBreach(
      await runSaoe(["attack", "tampered-envelope", "--fresh"], tree.root),
      "tampered-envelope",
    );
  },
});

Deno.test({
  name: "saoe attack replay prints BREACH when the validator ignores the replay claim",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tree = await patchedTree(REPLAY_OFF);
    assertBreach(await runSaoe(["attack", "replay", "--fresh"], tree.root), "replay");
  },
});
