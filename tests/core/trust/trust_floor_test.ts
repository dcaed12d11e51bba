/**
 * The trust floor: what the ledger's `trust_versions` events add up to, what a
 * change of directory revokes, and what a state below the floor is refused as.
 */
import assert from "node:assert/strict";
import { keyIdOf } from "../../../core/primitives/crypto/ed25519.ts";
import { SaoeError } from "../../../core/primitives/errors.ts";
import { buildEvent } from "../../../core/domain/ledger/events.ts";
import { floorWithEvent, trustVersionsEvent } from "../../../core/domain/ledger/trust_versions.ts";
import { AgentDirectory } from "../../../core/domain/trust/agent_directory.ts";
import {
  assertTrustFloor,
  EMPTY_FLOOR,
  raiseFloor,
  revokedKeyIds,
  TrustFloorError,
} from "../../../core/domain/trust/trust_floor.ts";
import { FloorVersionStore } from "../../../core/domain/trust/version_store_floor.ts";
import { MemoryVersionStore } from "../../../core/domain/trust/version_store_memory.ts";

const RECIPIENT = `age1${"q".repeat(58)}`;
const NOW = Date.parse("2026-06-01T00:00:00.000Z");

function key(byte: number, until = "2027-01-01T00:00:00.000Z") {
  return {
    keyid: `k${byte}`,
    public_key: new Uint8Array(32).fill(byte).toBase64(),
    age_recipient: RECIPIENT,
    valid_from: "2026-01-01T00:00:00.000Z",
    valid_until: until,
  };
}

function directory(version: number, agents: Record<string, ReturnType<typeof key>[]>) {
  return new AgentDirectory({
    version,
    issued_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2027-01-01T00:00:00.000Z",
    agents: Object.entries(agents).map(([agent, keys]) => ({ agent, keys })),
  });
}

const idOf = (byte: number) => keyIdOf(new Uint8Array(32).fill(byte));

Deno.test("the floor of trust_versions events is the highest version per kind and the union of revoked keys", async () => {
  const a = await idOf(1);
  const b = await idOf(2);
  let floor = EMPTY_FLOOR;
  floor = floorWithEvent(
    floor,
    trustVersionsEvent({ root: 2, directory: 5 }, { ...EMPTY_FLOOR, revoked: [a] }, "start"),
  );
  floor = floorWithEvent(
    floor,
    trustVersionsEvent({ root: 1, directory: 7 }, { ...EMPTY_FLOOR, revoked: [b] }, "reload"),
  );
  assert.deepEqual(floor.versions, { root: 2, directory: 7 });
  assert.deepEqual(floor.revoked, [a, b]);
  // junk can only raise it: malformed entries are skipped one by one, never lower anything
  const junk = buildEvent({
    type: "trust_versions",
    agent: "supervisor",
    detail: {
      versions: { root: "9", directory: -1, "capset:x": 3, "BAD KEY": 99 },
      revoked_keyids: ["zz", 7],
    },
  });
  const after = floorWithEvent(floor, junk);
  assert.deepEqual(after.versions, { root: 2, directory: 7, "capset:x": 3 });
  assert.deepEqual(after.revoked, [a, b]);
  assert.deepEqual(raiseFloor(after, { directory: 1 }).versions.directory, 7);
});

Deno.test("revokedKeyIds() names keys removed or closed by the next directory, not windows that ran out", async () => {
  const before = directory(1, {
    intake: [key(1)],
    planner: [key(2)],
    viewer: [key(3, "2026-05-01T00:00:00.000Z")],
  });
  const after = directory(2, {
    intake: [],
    planner: [key(2, "2026-06-01T00:00:00.000Z"), key(4)],
    viewer: [key(3, "2026-07-01T00:00:00.000Z")],
  });
  const revoked = await revokedKeyIds(before, after, NOW);
  assert.deepEqual(revoked.sort(), [await idOf(1), await idOf(2)].sort());
});

Deno.test("assertTrustFloor() refuses a lower version, a missing template and a revoked key as rollback", async () => {
  const dir = directory(2, { intake: [key(1)] });
  const fileOf = (k: string) => `/home/${k}`;
  const floor = {
    versions: { root: 1, directory: 2, "template:t": 3, "capset:gone": 4 },
    revoked: [],
  };
  await assertTrustFloor(
    { versions: { root: 1, directory: 2, "template:t": 3 }, directory: dir, fileOf },
    floor,
    NOW,
  );
  await assert.rejects(
    assertTrustFloor(
      { versions: { root: 1, directory: 1, "template:t": 3 }, directory: dir, fileOf },
      floor,
      NOW,
    ),
    (err: unknown) =>
      err instanceof TrustFloorError && err.code === "rollback" && err.kind === "directory" &&
      err.version === 1 && err.recorded === 2 &&
      /agent key directory: \/home\/directory is version 1, but the audit ledger records version 2/
        .test(err.message) &&
      /Fix: /.test(err.message),
  );
  await assert.rejects(
    assertTrustFloor({ versions: { root: 1, directory: 2 }, directory: dir, fileOf }, floor, NOW),
    (err: unknown) =>
      err instanceof TrustFloorError && err.kind === "template:t" && err.version === 0,
  );
  await assert.rejects(
    assertTrustFloor(
      { versions: { root: 1, directory: 2, "template:t": 3 }, directory: dir, fileOf },
      { ...floor, revoked: [await idOf(1)] },
      NOW,
    ),
    (err: unknown) =>
      err instanceof SaoeError && err.code === "rollback" &&
      /lists key k1 of agent "intake" as current/.test(err.message),
  );
});

Deno.test("FloorVersionStore reads the higher of its store and the floor, and raises only its store", async () => {
  const inner = new MemoryVersionStore({ directory: 1, root: 5 });
  const store = new FloorVersionStore(inner, { directory: 3, root: 2 });
  assert.equal(await store.highest("directory"), 3);
  assert.equal(await store.highest("root"), 5);
  assert.equal(await store.highest("capset:planner"), 0);
  await store.raise("directory", 4);
  assert.equal(await inner.highest("directory"), 4);
  assert.equal(await store.highest("toString"), 0);
});
