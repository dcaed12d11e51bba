import assert from "node:assert/strict";
import {
  AGENT_ID_RE,
  agentId,
  assertIdentifier,
  sessionId,
  SHA256_HEX_RE,
  sha256HexId,
  TEMPLATE_ID_RE,
  templateId,
  TOOL_NAME_RE,
  uuid,
  UUID_RE,
} from "../../../core/primitives/ids/patterns.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { ATTACK_STRINGS, SESSION, SESSION_ATTACKS } from "./_fixtures.ts";

function uuidWith(version: string, variant: string): string {
  return `3f2c9a4e-8b1d-${version}c6e-${variant}f0a-1b2c3d4e5f60`;
}

Deno.test("sessionId accepts lowercase UUIDs of versions 1 to 8 and variants 8, 9, a, b", () => {
  for (const version of "12345678") {
    for (const variant of "89ab") {
      const id = uuidWith(version, variant);
      assert.equal(sessionId(id, "$.session_id"), id);
      assert.equal(uuid(id, "$.envelope_id"), id);
    }
  }
});

Deno.test("sessionId refuses UUIDs outside versions 1 to 8 or outside the RFC variant", () => {
  for (const version of "09acf") {
    throwsCode(() => sessionId(uuidWith(version, "9"), "$.session_id"), "bad_identifier");
  }
  for (const variant of "01234567cdef") {
    throwsCode(() => sessionId(uuidWith("4", variant), "$.session_id"), "bad_identifier");
  }
  throwsCode(() => sessionId("00000000-0000-0000-0000-000000000000", "$"), "bad_identifier");
  throwsCode(() => sessionId("ffffffff-ffff-ffff-ffff-ffffffffffff", "$"), "bad_identifier");
});

Deno.test("sessionId refuses upper case, traversal, absolute paths, NUL and a trailing newline", () => {
  assert.equal(sessionId(SESSION, "$"), SESSION);
  for (const attack of SESSION_ATTACKS) {
    assert.equal(UUID_RE.test(attack), false, JSON.stringify(attack));
    const err = throwsCode(() => sessionId(attack, "$.session_id"), "bad_identifier");
    assert.match(err.message, /\$\.session_id/);
  }
});

Deno.test("sessionId refuses a value that is not a string as a parse error", () => {
  for (const value of [null, 1, [SESSION], { id: SESSION }]) {
    throwsCode(() => sessionId(value, "$"), "parse_error");
  }
});

Deno.test("agentId and templateId accept lowercase names with digits and underscores", () => {
  for (const id of ["planner", "text_formatter", "image_filter2", "a", "a".repeat(32)]) {
    assert.equal(agentId(id, "$"), id);
    assert.equal(templateId(id, "$"), id);
  }
  assert.equal(templateId("t".repeat(64), "$"), "t".repeat(64));
});

Deno.test("agentId refuses every attack string and names longer than 32", () => {
  for (const attack of [...ATTACK_STRINGS, "a".repeat(33)]) {
    assert.equal(AGENT_ID_RE.test(attack), false, JSON.stringify(attack));
    throwsCode(() => agentId(attack, "$.sender"), "bad_identifier");
  }
});

Deno.test("templateId refuses every attack string and names longer than 64", () => {
  for (const attack of [...ATTACK_STRINGS, "t".repeat(65)]) {
    assert.equal(TEMPLATE_ID_RE.test(attack), false, JSON.stringify(attack));
    assert.equal(TOOL_NAME_RE.test(attack), false, JSON.stringify(attack));
    throwsCode(() => templateId(attack, "$.template.id"), "bad_identifier");
  }
});

Deno.test("assertIdentifier() throws bad_identifier for attack strings and returns valid ids", () => {
  assert.equal(assertIdentifier("planner", AGENT_ID_RE, "agent id"), "planner");
  for (const attack of ATTACK_STRINGS) {
    const err = throwsCode(
      () => assertIdentifier(attack, AGENT_ID_RE, "agent id"),
      "bad_identifier",
    );
    assert.ok(err.message.startsWith("Invalid agent id"));
    assert.ok(err.message.length < 200, "the message quotes at most 80 characters of the value");
  }
});

Deno.test("sha256HexId accepts 64 lowercase hex digits only", () => {
  const digest = "ab".repeat(32);
  assert.equal(sha256HexId(digest, "$"), digest);
  for (
    const bad of [
      digest.toUpperCase(),
      digest.slice(2),
      digest + "ab",
      `${digest}\n`,
      "g".repeat(64),
    ]
  ) {
    assert.equal(SHA256_HEX_RE.test(bad), false);
    throwsCode(() => sha256HexId(bad, "$"), "bad_identifier");
  }
});
