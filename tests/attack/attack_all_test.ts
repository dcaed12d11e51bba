/**
 * The main proof of the red-team suite: `saoe attack all` on a fresh home, run
 * the way CI runs it, prints only BLOCKED lines (at least one for every attack
 * `--list` names) and exits 0.
 */
import assert from "node:assert/strict";
import { runSaoe } from "./_tree.ts";
import { assertAllBlocked } from "./_assert_lines.ts";

Deno.test({
  name: "saoe attack all on a fresh home prints only BLOCKED lines and exits 0",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const list = await runSaoe(["attack", "--list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { attacks: { name: string }[] }).attacks.map((a) =>
      a.name
    );
    assert.ok(names.length >= 13, `only ${names.length} attacks listed`);

    const run = await runSaoe(["attack", "all", "--fresh"]);
    assertAllBlocked(run, names);
    assert.match(run.stderr, /every boundary held/);
  },
});
