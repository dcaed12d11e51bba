/**
 * `scripts/setup` on this machine (which the suite itself needs set up): it
 * finds every package of both profiles, prints nothing and exits 0, and each
 * command the pipeline needs for its sandbox is among what it checks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO } from "../cli/_fixtures.ts";

const SETUP = join(REPO, "scripts", "setup");

Deno.test("scripts/setup demo and test find every package here, print nothing and exit 0", async () => {
  for (const profile of ["demo", "test"]) {
    const out = await new Deno.Command("bash", { args: [SETUP, profile], stdin: "null" }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${profile}: ${stderr}`);
    assert.equal(stderr, "", profile);
  }
});

Deno.test("scripts/setup demo checks the sandbox tools the supervisor refuses to start without", async () => {
  const text = await Deno.readTextFile(SETUP);
  for (const command of ["/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv"]) {
    assert.match(text, new RegExp(`^demo \\S+ ${command.replaceAll("/", "\\/")} `, "m"), command);
  }
});
