import assert from "node:assert/strict";
import { SchemaCache } from "../../../core/domain/validate/schema_cache.ts";

const SCHEMA = {
  type: "object",
  properties: { url: { type: "string", format: "uri" } },
  required: ["url"],
  additionalProperties: false,
};

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

Deno.test("SchemaCache.check() accepts a matching payload and refuses others with schema", () => {
  const cache = new SchemaCache();
  cache.check({ schema: SCHEMA, key: "a", payload: { url: "https://example.com/" }, what: "t" });
  assert.equal(
    codeOf(() =>
      cache.check({ schema: SCHEMA, key: "a", payload: { url: "not a uri" }, what: "t" })
    ),
    "schema",
  );
  assert.equal(
    codeOf(() =>
      cache.check({ schema: SCHEMA, key: "a", payload: { url: "x:", x: 1 }, what: "t" })
    ),
    "schema",
  );
});

Deno.test("SchemaCache.check() refuses a schema strict mode rejects with schema", () => {
  const cache = new SchemaCache();
  const loose = { type: "object", required: ["a"], frobnicate: true };
  assert.equal(
    codeOf(() => cache.check({ schema: loose, key: "b", payload: {}, what: "t" })),
    "schema",
  );
});

Deno.test("SchemaCache.check() compiles once per key and lets templates share an $id", () => {
  const cache = new SchemaCache();
  const one = {
    $id: "https://saoe.example/article",
    type: "object",
    properties: { a: { type: "number" } },
  };
  const two = {
    $id: "https://saoe.example/article",
    type: "object",
    properties: { a: { type: "string" } },
  };
  cache.check({ schema: one, key: "sha-one", payload: { a: 1 }, what: "t" });
  cache.check({ schema: two, key: "sha-two", payload: { a: "s" }, what: "t" });
  cache.check({ schema: one, key: "sha-one", payload: { a: 2 }, what: "t" });
  assert.equal(cache.size, 2);
});
