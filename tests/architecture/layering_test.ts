/**
 * The layout of the code shows its architecture, and this test keeps it so: it
 * reads the import graph Deno resolves for every file and fails on an import
 * from a lower layer of `core/` into a higher one, on production code importing
 * developer tooling, and on any cycle between folders.
 */
import assert from "node:assert/strict";
import { importEdges } from "./_import_graph.ts";
import { checkLayering } from "./_layering.ts";

Deno.test("the repository's imports follow the layers and no two folders import each other", async () => {
  const edges = await importEdges(["core", "agents", "cli", "scripts", "tests"]);
  assert.ok(edges.length > 500, `only ${edges.length} imports found: the graph was not read`);
  const violations = checkLayering(edges);
  assert.deepEqual(violations.map((v) => `${v.rule}: ${v.detail}`), []);
});

Deno.test("checkLayering() refuses an upward import, production code importing devtools, and a cycle", () => {
  const found = (from: string, to: string) => checkLayering([{ from, to }]).map((v) => v.rule);
  assert.deepEqual(found("core/domain/vault/a.ts", "core/services/supervisor/b.ts"), ["upward"]);
  assert.deepEqual(found("core/services/runtime/a.ts", "core/devtools/attack/b.ts"), ["upward"]);
  assert.deepEqual(found("agents/planner.ts", "core/devtools/dev/x.ts"), ["forbidden"]);
  assert.deepEqual(found("core/domain/ledger/a.ts", "cli/_support/output.ts"), ["forbidden"]);
  assert.deepEqual(found("scripts/fuzz.ts", "tests/fuzz/x.ts"), ["forbidden"]);
  assert.deepEqual(found("core/misc/a.ts", "core/primitives/json/b.ts"), ["unknown_layer"]);
  assert.deepEqual(found("core/services/viewer/a.ts", "core/primitives/web/b.ts"), []);
  const cycle = checkLayering([
    { from: "core/domain/capset/a.ts", to: "core/domain/validate/b.ts" },
    { from: "core/domain/validate/c.ts", to: "core/domain/vault/d.ts" },
    { from: "core/domain/vault/e.ts", to: "core/domain/capset/f.ts" },
  ]);
  assert.equal(cycle.length, 1);
  assert.equal(cycle[0]!.rule, "cycle");
  assert.match(
    cycle[0]!.detail,
    /core\/domain\/capset <-> core\/domain\/validate <-> core\/domain\/vault/,
  );
});
