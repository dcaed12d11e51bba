/**
 * The capability set (docs/design.md section 5): what one agent may receive, send, run,
 * decrypt, read, write and listen on. This module only defines the type and its
 * strict decoder; verification and the capset → Deno flags function live beside it.
 *
 * @module
 */
import {
  arr,
  type Decoded,
  type Decoder,
  int,
  obj,
  oneOf,
  optional,
  record,
  str,
} from "../../primitives/json/decode.ts";
import { agentId, MAX_VERSION, templateId, TOOL_NAME_RE } from "../../primitives/ids/patterns.ts";
import { timestamp } from "../../primitives/time/timestamp.ts";
import { SHARED_FS_ROOTS } from "../home/layout.ts";

/**
 * A loopback listen address `127.0.0.1:PORT` (agents never listen elsewhere);
 * port 0 is one port the operating system assigns when the agent binds.
 */
export const LISTEN_RE = /^127\.0\.0\.1:(0|[1-9][0-9]{0,4})$/;

const argConstraint = obj({
  enum: optional(arr(str({ maxLength: 256 }), 64)),
  min: optional(int(0, 1_000_000_000)),
  max: optional(int(0, 1_000_000_000)),
  max_length: optional(int(0, 100_000_000)),
});

/** Constraint on one tool argument: allowed values, numeric range or length. */
export type ArgConstraint = Decoded<typeof argConstraint>;

/** Fields of a capability set other than its validity window (the source form). */
const capsetFields = {
  agent: agentId,
  version: int(1, MAX_VERSION),
  receives: arr(obj({ from: agentId, templates: arr(templateId, 64) }), 64),
  sends: arr(obj({ to: agentId, templates: arr(templateId, 64) }), 64),
  tools: arr(
    obj({
      name: str({ pattern: TOOL_NAME_RE, maxLength: 64 }),
      allowed_args: record(/^[a-z][a-z0-9_]{0,63}$/, argConstraint, 64),
    }),
    32,
  ),
  vault: arr(templateId, 256),
  fs: obj({ read: arr(oneOf(SHARED_FS_ROOTS), 8), write: arr(oneOf(SHARED_FS_ROOTS), 8) }),
  net: arr(
    str({ pattern: LISTEN_RE, maxLength: 21, what: "a loopback listen address 127.0.0.1:PORT" }),
    4,
  ),
  limits: obj({
    max_envelope_bytes: int(256, 64 * 1024 * 1024),
    quota_per_minute: int(1, 1_000_000),
    max_inbox_depth: int(1, 1_000_000),
    max_quarantine: int(1, 1_000_000),
    /**
     * Kernel limits of the agent's sandbox (docs/design.md section 12); each absent
     * one takes its default from `sandboxLimits()`. Writable private memory
     * (RLIMIT_DATA), in MiB.
     */
    memory_mib: optional(int(64, 16_384)),
    /** Open file descriptors (RLIMIT_NOFILE). */
    open_files: optional(int(32, 65_536)),
    /** Processes and threads of the agent's own uid (RLIMIT_NPROC, with a uid per agent). */
    processes: optional(int(16, 4096)),
    /** Largest file the agent may write (RLIMIT_FSIZE), in MiB. */
    file_size_mib: optional(int(1, 4096)),
  }),
};

/** Decoder for a capability set source (reviewed in git, not yet signed: no validity window). */
export const decodeCapsetSource = obj(capsetFields);
/** Decoder for a signed capability set payload. */
export const decodeCapset = obj({ ...capsetFields, issued_at: timestamp, expires_at: timestamp });

/** A capability set source as reviewed in git. */
export type CapsetSource = Decoded<typeof decodeCapsetSource>;
/** A capability set as signed by the dispatcher. */
export type Capset = Decoded<typeof decodeCapset>;

/** Type guard helper so callers can name the decoder type. */
export type CapsetDecoder = Decoder<Capset>;
