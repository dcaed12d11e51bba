/**
 * docs/architecture.md carries the per-agent permission table generated from the
 * capsets; this regenerates it and fails when the doc is stale.
 */
import assert from "node:assert/strict";
import {
  canonical,
  currentGenerated,
  DOC_PATH,
  permissionTable,
  replaceGenerated,
} from "../../scripts/gen_permission_table.ts";

Deno.test("docs/architecture.md holds the permission table the capsets generate today", async () => {
  const doc = await Deno.readTextFile(DOC_PATH);
  const current = currentGenerated(doc);
  assert.ok(current !== undefined, "the generated section markers are missing");
  const fresh = await permissionTable();
  assert.equal(
    canonical(current),
    canonical(fresh),
    "docs/architecture.md is stale: run ./scripts/deno run --allow-read --allow-write --allow-run --allow-sys=uid scripts/gen_permission_table.ts --write",
  );
  // the table names each agent's grants, e.g. intake's one port and image_filter's tool module
  assert.match(fresh, /\*\*intake\*\*.*`127\.0\.0\.1:8090` \(net\[0\]=127\.0\.0\.1:8090\)/);
  assert.match(
    fresh,
    /\*\*image_filter\*\*.*`\/opt\/saoe\/core\/domain\/toolgate\/tools\/image_sanitize\.ts`/,
  );
});

Deno.test("the staleness check notices a changed grant", async () => {
  const fresh = await permissionTable();
  const edited = fresh.replace(
    "/srv/saoe/uploads` (fs.read[0]=uploads)",
    "/srv/saoe/output` (fs.read[0]=output)",
  );
  assert.notEqual(edited, fresh);
  const doc = replaceGenerated(await Deno.readTextFile(DOC_PATH), edited);
  assert.notEqual(canonical(currentGenerated(doc)!), canonical(fresh));
});
