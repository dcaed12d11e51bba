/**
 * `saoe keys status`: every key and statement with its expiry; warnings at 7
 * days and 1 day; `--check` exit codes for cron and CI.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import { collectKeysStatus, expiringWithin } from "../../core/services/ceremony/keys_status.ts";
import { makeTestHome, runSaoe } from "../supervisor/_harness.ts";

const DAY = 86_400_000;

Deno.test("keys status --check exits 0 when nothing expires within the window and 1 when something does", async () => {
  await using t = await makeTestHome();
  const fine = await runSaoe(["keys", "status", "--home", t.root, "--check"]);
  assert.equal(fine.code, 0, fine.stderr);
  assert.match(fine.stdout, /Check passed: nothing expires within 7 days/);

  // capsets, manifests, the directory and the tool manifest are valid for 90 days
  const soon = await runSaoe(["keys", "status", "--home", t.root, "--check", "--within", "100"]);
  assert.equal(soon.code, 1);
  assert.match(soon.stdout, /Check failed: 15 key\(s\) or statement\(s\) expire within 100 days/);
  assert.match(soon.stdout, /capset planner v1/);

  const json = await runSaoe([
    "keys",
    "status",
    "--home",
    t.root,
    "--check",
    "--within",
    "400",
    "--json",
  ]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(
    [...new Set(report.keys.map((k: { role: string }) => k.role))].sort(),
    ["agent", "dispatcher", "supervisor"],
  );
  assert.deepEqual(
    [...new Set(report.statements.map((s: { kind: string }) => s.kind))].sort(),
    ["capset", "directory", "root", "template_manifest", "tool_manifest"],
  );
  for (const key of report.keys) assert.match(key.keyid, /^[0-9a-f]{64}$/);

  const usage = await runSaoe(["keys", "status", "--home", t.root, "--within", "3"]);
  assert.equal(usage.code, 2);
});

Deno.test("keys status warns 7 days and 1 day before an expiry and reports what has expired", async () => {
  await using t = await makeTestHome();
  const created = Date.parse(t.config.created_at);
  const level = async (days: number) => {
    const status = await collectKeysStatus({
      home: t.root,
      clock: new FakeClock(created + days * DAY),
    });
    return status.statements.find((s) => s.kind === "capset" && s.name === "planner")!;
  };
  assert.equal((await level(80)).level, "ok");
  assert.equal((await level(84)).level, "warn");
  assert.equal((await level(89.5)).level, "critical");
  const expired = await level(91);
  assert.equal(expired.level, "expired");
  assert.equal(expired.renew, `saoe keys renew capsets --home ${t.root}`);

  const status = await collectKeysStatus({
    home: t.root,
    clock: new FakeClock(created + 84 * DAY),
  });
  assert.equal(expiringWithin(status, 5).length, 0);
  assert.equal(expiringWithin(status, 7).length, 15);
  const dispatcher = status.keys.find((k) => k.role === "dispatcher")!;
  assert.equal(dispatcher.on_host, true);
  assert.equal(dispatcher.state, "current");
});
