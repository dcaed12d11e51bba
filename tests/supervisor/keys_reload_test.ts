/**
 * What the supervisor compares on a reload: the trust fingerprint (any file
 * under trust/ or vault/, temp files excluded) and the diff of two verified
 * states (dispatcher keys, rotated, revoked and restored agents).
 */
import { DOC_SANDBOX_HOST } from "../../core/services/supervisor/sandbox_host.ts";
import assert from "node:assert/strict";
import { diffTrust, planReload, trustFingerprint } from "../../core/services/supervisor/reload.ts";
import type { VerifiedHome } from "../../core/services/supervisor/preflight.ts";
import type { Capset } from "../../core/domain/capset/types.ts";
import { AgentDirectory } from "../../core/domain/trust/agent_directory.ts";
import type { VerifiedRoot } from "../../core/domain/trust/chain.ts";
import type { DirectoryAgent } from "../../core/domain/trust/directory_payload.ts";

const RECIPIENT = `age1${"q".repeat(58)}`;

function root(version: number, keyByte: number): VerifiedRoot {
  const keys = [{ keyid: `d${keyByte}`, publicKey: new Uint8Array(32).fill(keyByte) }];
  const payload = {
    version,
    issued_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2027-01-01T00:00:00.000Z",
    threshold: 1,
    keys: keys.map((k) => ({ keyid: k.keyid, public_key: k.publicKey.toBase64() })),
  };
  return {
    version,
    threshold: 1,
    keys,
    issued_at: payload.issued_at,
    expires_at: payload.expires_at,
    trusted: { name: `root v${version}`, keys, threshold: 1 },
    payload,
  };
}

function directory(version: number, agents: Record<string, number[]>): AgentDirectory {
  const list: DirectoryAgent[] = Object.entries(agents).map(([agent, bytes]) => ({
    agent,
    keys: bytes.map((b) => ({
      keyid: `k${b}`,
      public_key: new Uint8Array(32).fill(b).toBase64(),
      age_recipient: RECIPIENT,
      valid_from: "2026-01-01T00:00:00.000Z",
      valid_until: "2027-01-01T00:00:00.000Z",
    })),
  }));
  return new AgentDirectory({
    version,
    issued_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2027-01-01T00:00:00.000Z",
    agents: list,
  });
}

Deno.test("diffTrust() names a dispatcher rotation and rotated, revoked and restored agents", () => {
  const now = Date.parse("2026-06-01T00:00:00.000Z");
  const before = {
    root: root(1, 1),
    directory: directory(3, { a: [10], b: [11], c: [], d: [13] }),
  };
  const after = { root: root(2, 2), directory: directory(4, { a: [20], b: [], c: [12], d: [13] }) };
  const diff = diffTrust(before, after, ["a", "b", "c", "d"], now);
  assert.equal(diff.dispatcherKeysChanged, true);
  assert.deepEqual([diff.previousRootVersion, diff.rootVersion], [1, 2]);
  assert.deepEqual([diff.previousDirectoryVersion, diff.directoryVersion], [3, 4]);
  assert.deepEqual(diff.rotated, ["a"]);
  assert.deepEqual(diff.revoked, ["b"]);
  assert.deepEqual(diff.restored, ["c"]);
  const renewed = diffTrust(before, { root: root(2, 1), directory: before.directory }, ["a"], now);
  assert.equal(renewed.dispatcherKeysChanged, false);
  assert.deepEqual(renewed.rotated, []);
});

function verifiedHome(
  rootKey: number,
  dir: AgentDirectory,
  receives: Record<string, string[]>,
  versions: { tools?: number; capset?: number } = {},
): VerifiedHome {
  const capsets = new Map(
    Object.entries(receives).map(([agent, from]) => [
      agent,
      {
        agent,
        version: versions.capset ?? 1,
        receives: from.map((f) => ({ from: f, templates: ["t"] })),
      } as unknown as Capset,
    ]),
  );
  return {
    root: root(1, rootKey),
    directory: dir,
    toolManifest: { version: versions.tools ?? 1 } as VerifiedHome["toolManifest"],
    codeManifest: { version: 1, files: [], agents: {} } as unknown as VerifiedHome["codeManifest"],
    capsets,
    templates: new Map(),
    commands: new Map(),
    sandboxHost: DOC_SANDBOX_HOST,
  };
}

Deno.test("planReload() stops a revoked agent and restarts its receivers first, then the rest in order", () => {
  const now = Date.parse("2026-06-01T00:00:00.000Z");
  const receives = { a: [], b: [], c: ["b"], d: [] };
  const before = verifiedHome(1, directory(3, { a: [1], b: [2], c: [3], d: [4] }), receives);
  const after = verifiedHome(1, directory(4, { a: [1], b: [], c: [3], d: [4] }), receives);
  const plan = planReload(before, after, ["a", "b", "c", "d"], now);
  assert.deepEqual(plan.revoked, ["b"]);
  assert.deepEqual(plan.restartOrder, ["c", "a", "d"]);
  assert.equal(plan.kind, "revoked");
});

Deno.test("planReload() names what a reload was: dispatcher, agent, renewed or reloaded", () => {
  const now = Date.parse("2026-06-01T00:00:00.000Z");
  const receives = { a: [] };
  const dir = directory(3, { a: [1] });
  const before = verifiedHome(1, dir, receives);
  const kind = (after: VerifiedHome) => planReload(before, after, ["a"], now).kind;
  assert.equal(kind(verifiedHome(2, dir, receives)), "dispatcher");
  assert.equal(kind(verifiedHome(1, directory(3, { a: [9] }), receives)), "agent");
  assert.equal(kind(verifiedHome(1, dir, receives, { tools: 2 })), "renewed");
  assert.equal(kind(verifiedHome(1, dir, receives, { capset: 2 })), "renewed");
  assert.equal(kind(verifiedHome(1, directory(4, { a: [1] }), receives)), "renewed");
  assert.equal(kind(verifiedHome(1, dir, receives)), "reloaded");
});

Deno.test("trustFingerprint() changes with any trust or vault file and ignores temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const home = { trust: `${dir}/trust`, vault: `${dir}/vault` };
    await Deno.mkdir(`${home.vault}/capsets`, { recursive: true });
    await Deno.mkdir(home.trust);
    await Deno.writeTextFile(`${home.vault}/capsets/planner.age`, "a");
    const first = await trustFingerprint(home);
    await Deno.writeTextFile(`${home.vault}/capsets/.tmp-123`, "half written");
    assert.equal(await trustFingerprint(home), first);
    await Deno.writeTextFile(`${home.vault}/capsets/planner.age`, "b");
    assert.notEqual(await trustFingerprint(home), first);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
