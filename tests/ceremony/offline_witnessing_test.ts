/**
 * A key ceremony done while no pipeline runs appends its events to the ledger
 * itself and has them witnessed before it returns: the home's local witness is
 * started for it, and `saoe audit verify` then finds no unwitnessed tail. When
 * no witness can be reached the ceremony still completes, and says loudly that
 * its record is not witnessed yet and how to finish it.
 */
import assert from "node:assert/strict";
import { readHomeConfig, writeHomeConfig } from "../../core/domain/home/config.ts";
import { makeTestHome, runSaoe } from "../supervisor/_harness.ts";

Deno.test("saoe keys renew with the pipeline stopped is witnessed at once by the home's local witness", async () => {
  await using t = await makeTestHome();
  const renew = await runSaoe(["keys", "renew", "directory", "--home", t.root, "--json"]);
  assert.equal(renew.code, 0, renew.stderr);
  const result = JSON.parse(renew.stdout);
  assert.equal(result.recordedBy, "ledger");
  assert.equal(result.witnessing.witnessed, true, JSON.stringify(result.witnessing));
  const verify = await runSaoe(["audit", "verify", "--home", t.root, "--json"]);
  assert.equal(verify.code, 0, verify.stderr);
  const verified = JSON.parse(verify.stdout);
  assert.equal(verified.unwitnessed, 0);
  assert.equal(
    verified.witnessed_size ?? verified.witnessedSize,
    result.witnessing.checkpoint_size,
  );

  const text = await runSaoe(["keys", "renew", "directory", "--home", t.root]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /^Witnessed: the witnesses cosigned the checkpoint over it \(\d+ records\)$/m,
  );
});

Deno.test("a ceremony whose witness cannot be reached completes and warns that its record is not witnessed yet", async () => {
  await using t = await makeTestHome();
  // the home's witness moved to an address where nothing listens
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const config = await readHomeConfig(t.home.config);
  const witnesses = config.witnesses!;
  await writeHomeConfig(t.home.config, {
    ...config,
    witnesses: {
      ...witnesses,
      list: witnesses.list.map(({ state: _state, ...w }) => ({
        ...w,
        url: `http://127.0.0.1:${port}`,
      })),
    },
  });
  const renew = await runSaoe(["keys", "renew", "directory", "--home", t.root, "--json"]);
  assert.equal(renew.code, 0, renew.stderr);
  const result = JSON.parse(renew.stdout);
  assert.equal(result.witnessing.witnessed, false);
  assert.match(result.witnessing.problem, /Cannot reach the witness at http:\/\/127\.0\.0\.1:\d+/);
  const text = await runSaoe(["keys", "renew", "directory", "--home", t.root]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stderr,
    /WARNING: recorded but not witnessed yet: .*Cannot reach the witness.*run "saoe audit checkpoint" once the witnesses are reachable/,
  );
  assert.doesNotMatch(text.stdout, /^Witnessed/m);
});
