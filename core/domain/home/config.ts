/**
 * The operator config `<home>/config.json`: the trust root pin and the home's
 * settings. Agents never read it (the capset permission function refuses it);
 * the supervisor and the CLI do. Written last by `saoe init`, so a home without
 * it is incomplete.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import {
  arr,
  type Decoded,
  int,
  literal,
  obj,
  oneOf,
  optional,
  record,
  str,
} from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { agentId, sha256HexId } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

const decodeConfig = obj({
  format: literal(1),
  created_at: timestamp,
  /** Hex SHA-256 of `trust/root/1.root.json`'s exact bytes. */
  root_pin: sha256HexId,
  skew_ms: int(0, 3_600_000),
  /** Agents the supervisor runs, in start order. */
  agents: arr(agentId, 64),
  /** Operator credentials intake accepts, hashed (the secrets live in `keys/`). */
  operator_tokens: arr(
    obj({
      id: str({ pattern: /^[a-z0-9-]{1,32}$/, maxLength: 32 }),
      sha256: sha256HexId,
      kind: oneOf(["person", "automation"] as const),
    }),
    64,
  ),
  /** Intake limits: per-credential quotas (sliding minute) and the global queue depth. */
  intake: obj({
    person_per_minute: int(1, 1_000_000),
    automation_per_minute: int(1, 1_000_000),
    max_queue_depth: int(1, 10_000_000),
  }),
  /**
   * The numeric ids of the agents' sandboxes when the supervisor runs as root:
   * each agent's own uid and gid (its folders are owned by it, mode 0700), and a
   * group per shared folder (`uploads`, `media`, `output`, `audit`) that the
   * agents naming it in `fs` join. Distinct, and never root's. Without root they
   * are unused: the agents share the supervisor's uid, and `saoe status` says so.
   */
  sandbox_ids: optional(obj({
    agents: record(
      /^[a-z][a-z0-9_]{0,31}$/,
      obj({ uid: int(1, 2_147_483_646), gid: int(1, 2_147_483_646) }),
      64,
    ),
    shared: obj({
      uploads: int(1, 2_147_483_646),
      media: int(1, 2_147_483_646),
      output: int(1, 2_147_483_646),
      audit: int(1, 2_147_483_646),
    }),
  })),
  /** Milliseconds between inbox reconciliation scans (catches events the OS dropped). */
  reconcile_ms: int(1000, 3_600_000),
  validity: obj({
    root_days: int(1, 3650),
    directory_days: int(1, 3650),
    capset_days: int(1, 3650),
    manifest_days: int(1, 3650),
    agent_key_days: int(1, 3650),
  }),
  /**
   * The witnesses that cosign this home's ledger checkpoints, and how many must
   * (k of n). The supervisor refuses to start without them.
   */
  witnesses: optional(obj({
    threshold: int(1, 16),
    list: arr(
      obj({
        /** The witness's key name (a schema-less URL such as `witness.local/a1b2`). */
        name: str({ pattern: /^[^\s+]{1,128}$/, maxLength: 128 }),
        /** Its cosignature verifier key (`<name>+<key id>+<base64>`, type 0x04). */
        vkey: str({ pattern: /^[^\s]{1,300}$/, maxLength: 300 }),
        /** Where it serves the tlog-witness protocol. */
        url: str({ pattern: /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, maxLength: 300 }),
        /**
         * For a witness on this machine: its state directory (outside the home),
         * which `saoe pipeline` starts it on before the supervisor.
         */
        state: optional(str({ pattern: /^\/[^\0\n]*$/, maxLength: 4096 })),
      }),
      16,
    ),
  })),
});

/** The operator config. */
export type HomeConfig = Decoded<typeof decodeConfig>;

/** Reads and strictly decodes `config.json`. */
export async function readHomeConfig(path: string): Promise<HomeConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    throw new SaoeError(
      "bad_config",
      `Cannot read ${path}: no initialised SAOE home there (run "saoe init --home <dir>")`,
      { file: path },
    );
  }
  return decodeConfig(parseStrictJson(bytes, { maxBytes: 64 * 1024 }), "$");
}

/** Writes `config.json` atomically after checking it. */
export async function writeHomeConfig(path: string, config: HomeConfig): Promise<void> {
  const checked = decodeConfig(config, "$");
  await writeFileAtomic(path, utf8(`${JSON.stringify(checked, null, 2)}\n`), { mode: 0o600 });
}
