/**
 * The directory a ceremony builds: version + 1, a fresh window, old keys closed
 * now and kept listed, renewed current keys, and room kept under the key limit.
 */
import assert from "node:assert/strict";
import {
  nextDirectory,
  renewNewestKeys,
  retireKeys,
} from "../../core/services/ceremony/keys_directory.ts";
import { AgentDirectory } from "../../core/domain/trust/agent_directory.ts";
import type { DirectoryKey } from "../../core/domain/trust/directory_payload.ts";

const NOW = Date.parse("2026-06-01T00:00:00.000Z");
const RECIPIENT = `age1${"q".repeat(58)}`;

function key(n: number, from: string, until: string): DirectoryKey {
  return {
    keyid: `k${n}`,
    public_key: new Uint8Array(32).fill(n).toBase64(),
    age_recipient: RECIPIENT,
    valid_from: from,
    valid_until: until,
  };
}

Deno.test("nextDirectory() closes the old key now, keeps it listed as retired and adds the new one", () => {
  const current = {
    version: 7,
    issued_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2026-04-01T00:00:00.000Z",
    agents: [
      { agent: "planner", keys: [key(1, "2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z")] },
      { agent: "intake", keys: [key(2, "2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z")] },
    ],
  };
  const fresh = key(3, "2026-06-01T00:00:00.000Z", "2027-06-01T00:00:00.000Z");
  const next = nextDirectory(current, {
    nowMs: NOW,
    validityDays: 90,
    change: { agent: "planner", keys: (keys) => [...retireKeys(keys, NOW), fresh] },
  });
  assert.equal(next.version, 8);
  assert.equal(next.issued_at, "2026-06-01T00:00:00.000Z");
  assert.equal(next.expires_at, "2026-08-30T00:00:00.000Z");
  const planner = next.agents.find((a) => a.agent === "planner")!;
  assert.deepEqual(planner.keys.map((k) => [k.keyid, k.valid_until]), [
    ["k1", "2026-06-01T00:00:00.000Z"],
    ["k3", "2027-06-01T00:00:00.000Z"],
  ]);
  // the old key now tells its late signatures apart as revoked
  const lookup = new AgentDirectory(next).senderKeys("planner", NOW + 1);
  assert.equal(lookup.status, "ok");
  assert.deepEqual(lookup.status === "ok" ? lookup.retired.map((k) => k.keyid) : [], ["k1"]);
  // other agents unchanged
  assert.deepEqual(next.agents.find((a) => a.agent === "intake")!.keys, current.agents[1]!.keys);
});

Deno.test("retireKeys() drops the oldest retired keys beyond the room left", () => {
  const keys = Array.from(
    { length: 5 },
    (_, i) => key(i + 1, "2026-01-01T00:00:00.000Z", `2026-0${i + 1}-15T00:00:00.000Z`),
  );
  const kept = retireKeys(keys, NOW, 3);
  assert.deepEqual(kept.map((k) => k.keyid), ["k5", "k4", "k3"]);
});

Deno.test("renewNewestKeys() renews each agent's newest key only and leaves a revoked agent keyless", () => {
  const agents = renewNewestKeys(
    [
      {
        agent: "planner",
        keys: [
          key(1, "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"),
          key(2, "2026-03-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"),
        ],
      },
      { agent: "viewer", keys: [] },
    ],
    NOW,
    10,
  );
  assert.deepEqual(agents[0]!.keys.map((k) => k.valid_until), [
    "2026-03-01T00:00:00.000Z",
    "2026-06-11T00:00:00.000Z",
  ]);
  assert.deepEqual(agents[1]!.keys, []);
});
