/**
 * Each attack fails when its defence is off (continued from
 * `defence_off_test.ts`, split so each file stays short): without the edge
 * check, hop skipping gets past validation step 7; with every agent granted
 * `--allow-read`, the hostile script reads what it must not.
 */
import { EDGE_OFF, SANDBOX_OFF } from "./_patches.ts";
import { patchedTree, runSaoe } from "./_tree.ts";
import { assertBreach } from "./_assert_lines.ts";

Deno.test({
  name: "saoe attack hop-skipping prints BREACH when the validator skips the edge check",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tree = await patchedTree(EDGE_OFF);
    assertBreach(await runSaoe(["attack", "hop-skipping", "--fresh"], tree.root), "hop-skipping");
  },
});

Deno.test({
  name: "saoe attack sandbox-escape prints BREACH when agents are spawned with --allow-read",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using tree = await patchedTree(SANDBOX_OFF);
    const run = await runSaoe(["attack", "sandbox-escape", "--fresh"], tree.root);
    assertBreach(run, "sandbox-escape");
    // the breach is the one the patch opened: reading keys/, not something unrelated
    if (!run.lines.some((l) => l.startsWith("BREACH: sandbox-escape: read keys/"))) {
      throw new Error(`expected the keys/ read to get through:\n${run.stdout}`);
    }
  },
});
