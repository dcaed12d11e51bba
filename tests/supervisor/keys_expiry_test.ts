/**
 * Expiry on a real home: the supervisor refuses to start on an expired root,
 * directory, capability set, tool manifest or template manifest, naming the
 * file and the `saoe keys renew …` command that fixes it (clock injected with
 * FakeClock), and `renew` repairs each; at runtime an expired directory, root
 * or tool manifest is refused with `expired` although trust is loaded once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError, SaoeError } from "../../core/primitives/errors.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import { readHomeConfig } from "../../core/domain/home/config.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { startSupervisor } from "../../core/services/supervisor/supervisor.ts";
import { preflight } from "../../core/services/supervisor/preflight.ts";
import { MemoryVersionStore } from "../../core/domain/trust/version_store_memory.ts";
import { renewStatements } from "../../core/services/ceremony/renew.ts";
import {
  checkNotExpired,
  expiringDirectory,
  guardToolManifestExpiry,
} from "../../core/services/runtime/expiry_guards.ts";
import type { ToolGate } from "../../core/domain/toolgate/gate.ts";
import { makeTestHome, REPO, type TestHome } from "./_harness.ts";

const DAY = 86_400_000;

async function refusal(t: TestHome, clock: FakeClock): Promise<SaoeError> {
  try {
    const supervisor = await startSupervisor({ home: t.root, repo: REPO, clock, log: () => {} });
    await supervisor.stop();
  } catch (err: unknown) {
    if (err instanceof SaoeError) return err;
    throw err;
  }
  throw new Error("the supervisor started on an expired home");
}

async function verifies(t: TestHome, clock: FakeClock): Promise<void> {
  const secrets = await (await openKeyStore(t.home.keys)).loadAgent("supervisor");
  await preflight({
    home: t.home,
    config: await readHomeConfig(t.home.config),
    ageIdentity: secrets.ageIdentity,
    repo: REPO,
    clock,
    versionStore: new MemoryVersionStore(),
  });
}

Deno.test("the supervisor refuses each expired statement, naming it and its renew command, until renewed", async () => {
  await using t = await makeTestHome();
  const created = Date.parse(t.config.created_at);
  const clock = new FakeClock(created + 91 * DAY);
  const renewCommand = (what: string) => `saoe keys renew ${what} --home ${t.root}`;
  const expect = async (file: string, what: string) => {
    const err = await refusal(t, clock);
    assert.equal(err.code, "expired", err.message);
    assert.ok(err.message.includes(file), err.message);
    assert.ok(err.message.includes(renewCommand(what)), err.message);
    await renewStatements({ home: t.root, clock, targets: [what as "root"] });
  };
  // checked in this order: directory, capsets, tool manifest, template manifests
  await expect(join("trust", "directory.json"), "directory");
  await expect(join("vault", "capsets"), "capsets");
  await expect("tools.manifest.json", "tools");
  await expect(".manifest.json", "manifests");
  await verifies(t, clock);

  clock.set(created + 400 * DAY);
  await expect(join("trust", "root"), "root");
  await renewStatements({
    home: t.root,
    clock,
    targets: ["directory", "capsets", "tools", "manifests"],
  });
  await verifies(t, clock);
  // renewed statements carry the new time: verified now, not at the old instant
  await assert.rejects(
    verifies(t, new FakeClock(created)),
    (e: unknown) => isSaoeError(e, "expired"),
  );
});

Deno.test("a running agent's key directory lookup refuses once the directory or the root expired", () => {
  const directory = { senderKeys: () => ({ status: "unknown" as const }) };
  const lookup = expiringDirectory(directory, {
    statements: [
      { what: "trust root v1", expires_at: "2027-01-01T00:00:00.000Z" },
      { what: "agent key directory v3", expires_at: "2026-03-01T00:00:00.000Z" },
    ],
    skewMs: 60_000,
  });
  assert.equal(
    lookup.senderKeys("planner", Date.parse("2026-03-01T00:00:30.000Z")).status,
    "unknown",
  );
  assert.throws(
    () => lookup.senderKeys("planner", Date.parse("2026-03-01T00:02:00.000Z")),
    (e: unknown) => isSaoeError(e, "expired") && /directory v3/.test((e as Error).message),
  );
  assert.throws(
    () =>
      checkNotExpired(
        [{ what: "trust root v1", expires_at: "2026-01-01T00:00:00.000Z" }],
        Date.parse("2026-01-02T00:00:00.000Z"),
        0,
      ),
    (e: unknown) => isSaoeError(e, "expired"),
  );
});

Deno.test("a running agent's ToolGate refuses every plan once the tool manifest expired, and reports it", async () => {
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00.000Z"));
  let executed = 0;
  const reported: string[] = [];
  const gate: ToolGate = {
    stopped: false,
    prewarm: () => Promise.resolve(),
    execute() {
      executed++;
      return Promise.resolve({ plan_id: "p", outputs: new Map() });
    },
  };
  const guarded = guardToolManifestExpiry(gate, {
    manifest: { what: "tool manifest v1", expires_at: "2026-01-02T00:00:00.000Z" },
    clock,
    skewMs: 0,
    onRefused: (err, request) => {
      reported.push(`${err.code} ${request.sessionId}`);
      return Promise.resolve();
    },
  });
  const request = {
    planBytes: new Uint8Array(),
    envelopeId: crypto.randomUUID(),
    sessionId: crypto.randomUUID(),
    inputs: new Map(),
  };
  await guarded.execute(request);
  clock.advance(2 * DAY);
  await assert.rejects(guarded.execute(request), (e: unknown) => isSaoeError(e, "expired"));
  assert.equal(executed, 1);
  assert.deepEqual(reported, [`expired ${request.sessionId}`]);
});
