/**
 * The one module that imports Ajv: JSON Schema 2020-12 validation of envelope
 * payloads (validation step 11). Ajv runs in strict mode (a schema with unknown
 * keywords is refused rather than half-applied) and stops at the first error.
 * Compiled validators are cached by the template's SHA-256, so a template is
 * compiled once and a changed template can never reuse a stale validator.
 *
 * @module
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";
import { SaoeError } from "../../primitives/errors.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";

// ajv-formats is CommonJS: its types describe the namespace, whose `default` is the plugin
const addFormats = formatsModule.default;

/** Most compiled validators kept; the cache is cleared when it fills. */
export const MAX_CACHED_SCHEMAS = 256;

/**
 * Compiles and caches template schemas.
 *
 * @example
 * ```ts
 * import { SchemaCache } from "./schema_cache.ts";
 * const cache = new SchemaCache();
 * const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
 * cache.check({ schema, key: "k", payload: { a: 1 }, what: "example" });
 * ```
 */
export class SchemaCache {
  #ajv: Ajv2020;
  #compiled = new Map<string, ValidateFunction>();

  /** Creates an empty cache with its own Ajv instance. */
  constructor() {
    // addUsedSchema false: two templates may reuse an $id without colliding in the instance
    this.#ajv = new Ajv2020({ strict: true, allErrors: false, addUsedSchema: false });
    addFormats(this.#ajv);
  }

  /** Number of compiled validators held. */
  get size(): number {
    return this.#compiled.size;
  }

  /**
   * Validates `payload` against `schema` (compiled once per `key`, the template's
   * SHA-256); throws `schema` naming the first violation or an invalid schema.
   */
  check(options: { schema: JsonObject; key: string; payload: unknown; what: string }): void {
    let validate = this.#compiled.get(options.key);
    if (validate === undefined) {
      try {
        validate = this.#ajv.compile(options.schema);
      } catch (err: unknown) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new SaoeError(
          "schema",
          `Cannot check ${options.what}: the template schema is invalid (${reason.slice(0, 200)})`,
        );
      }
      if (this.#compiled.size >= MAX_CACHED_SCHEMAS) this.#compiled.clear();
      this.#compiled.set(options.key, validate);
    }
    if (validate(options.payload) !== true) {
      const first = validate.errors?.[0];
      const where = first?.instancePath === "" ? "payload" : `payload${first?.instancePath ?? ""}`;
      throw new SaoeError(
        "schema",
        `Cannot accept ${options.what}: ${where} ${first?.message ?? "does not match the schema"}`,
      );
    }
  }
}
