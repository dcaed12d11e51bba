/**
 * Each attack fails when its defence is off (continued from
 * `defence_off_test.ts`, split so each file stays short): without the edge
 * check, hop skipping gets past validation step 7; with every agent granted
 * `--allow-read`, the OS sandbox still stops the hostile script, and with both
 * sandbox layers off it reads what it must not.
 */
import { DENO_READ_OFF, EDGE_OFF, OS_SANDBOX_OFF } from "./_patches.ts";
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
  name:
    "saoe attack sandbox-escape: with every agent granted --allow-read the OS sandbox still blocks keys/, with both layers off it prints BREACH",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    {
      await using tree = await patchedTree(DENO_READ_OFF);
      const run = await runSaoe(["attack", "sandbox-escape", "--fresh"], tree.root);
      const keys = run.lines.find((l) => l.includes("sandbox-escape: read keys/ ("));
      // Deno lets the read through; the mount namespace has no keys/ to read
      if (keys === undefined || !keys.startsWith("BLOCKED:") || !keys.includes("OS sandbox")) {
        throw new Error(`expected the OS sandbox to block the keys/ read:\n${run.stdout}`);
      }
    }
    await using tree = await patchedTree(DENO_READ_OFF, OS_SANDBOX_OFF);
    const run = await runSaoe(["attack", "sandbox-escape", "--fresh"], tree.root);
    assertBreach(run, "sandbox-escape");
    // the breach is the one the patches opened: reading keys/, not something unrelated
    if (!run.lines.some((l) => l.startsWith("BREACH: sandbox-escape: read keys/"))) {
      throw new Error(`expected the keys/ read to get through:\n${run.stdout}`);
    }
  },
});
