/**
 * The code manifest (docs/design.md section 12): a dispatcher-signed statement
 * of the sha256 of every file each agent's code is made of (`graph.ts`), made
 * by `saoe init` and re-pinned by `saoe publish --code`. The supervisor checks
 * an agent's files against it before every spawn (`code_check.ts`); a file that
 * differs refuses that agent with `code_hash_mismatch`, naming the file.
 *
 * Paths are repository-relative; `agents` maps each agent to the indices of its
 * files in `files`, so a module shared by every agent is listed once.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { arr, type Decoded, int, obj, record, str } from "../../primitives/json/decode.ts";
import { MAX_VERSION, sha256HexId } from "../../primitives/ids/patterns.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";

/** Largest signed code manifest accepted, in bytes (checked before parsing). */
export const MAX_CODE_MANIFEST_BYTES = 8 * 1024 * 1024;
const MAX_FILES = 50_000;

/** A repository-relative path: no `..`, no leading `/`, no control characters. */
// deno-lint-ignore no-control-regex -- control characters are exactly what it refuses
const CODE_PATH_RE = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[^/\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$/;

const manifestShape = obj({
  version: int(1, MAX_VERSION),
  issued_at: timestamp,
  expires_at: timestamp,
  files: arr(
    obj({
      path: str({ pattern: CODE_PATH_RE, maxLength: 1024, what: "a repository-relative path" }),
      sha256: sha256HexId,
    }),
    MAX_FILES,
  ),
  agents: record(/^[a-z][a-z0-9_]{0,31}$/, arr(int(0, MAX_FILES - 1), MAX_FILES), 64),
});

/** A code manifest as signed by the dispatcher. */
export type CodeManifest = Decoded<typeof manifestShape>;

/** Strict decoder: paths sorted and unique, every index naming a listed file. */
export function decodeCodeManifest(value: unknown, path: string): CodeManifest {
  const manifest = manifestShape(value, path);
  for (let i = 1; i < manifest.files.length; i++) {
    if (!(manifest.files[i - 1]!.path < manifest.files[i]!.path)) {
      throw new SaoeError(
        "parse_error",
        `Invalid code manifest: files are not sorted and unique at ${manifest.files[i]!.path}`,
      );
    }
  }
  for (const [agent, indices] of Object.entries(manifest.agents)) {
    for (const i of indices) {
      if (i >= manifest.files.length) {
        throw new SaoeError(
          "parse_error",
          `Invalid code manifest: agent ${agent} names file #${i}, which is not listed`,
        );
      }
    }
  }
  return manifest;
}

/** The pinned files of one agent: repository-relative path → sha256. */
export function agentCodeFiles(manifest: CodeManifest, agent: string): Map<string, string> {
  const out = new Map<string, string>();
  const indices = Object.hasOwn(manifest.agents, agent) ? manifest.agents[agent]! : [];
  for (const i of indices) {
    const file = manifest.files[i]!;
    out.set(file.path, file.sha256);
  }
  return out;
}

/**
 * True when two code manifests pin different files or hashes for `agent`
 * (a reload restarts it then).
 */
export function codePinsDiffer(a: CodeManifest, b: CodeManifest, agent: string): boolean {
  const x = agentCodeFiles(a, agent);
  const y = agentCodeFiles(b, agent);
  if (x.size !== y.size) return true;
  for (const [path, sha256] of x) if (y.get(path) !== sha256) return true;
  return false;
}

/** What to sign: the files of each agent, hashed from a checkout. */
export interface CodeContents {
  files: { path: string; sha256: string }[];
  agents: Record<string, number[]>;
}

/**
 * Hashes the files of each agent (repository-relative paths under `repo`).
 *
 * @example
 * ```ts ignore
 * const contents = await describeCode("/opt/saoe", new Map([["planner", ["deno.json"]]]));
 * ```
 */
export async function describeCode(
  repo: string,
  byAgent: ReadonlyMap<string, readonly string[]>,
): Promise<CodeContents> {
  const paths = [...new Set([...byAgent.values()].flat())].sort();
  const index = new Map(paths.map((p, i) => [p, i]));
  const files: CodeContents["files"] = [];
  for (const path of paths) {
    files.push({ path, sha256: await sha256Hex(await Deno.readFile(join(repo, path))) });
  }
  const agents: Record<string, number[]> = {};
  for (const [agent, list] of [...byAgent].sort(([a], [b]) => (a < b ? -1 : 1))) {
    agents[agent] = [...new Set(list)].map((p) => index.get(p)!).sort((a, b) => a - b);
  }
  return { files, agents };
}

/** Options for {@linkcode signCodeManifest}. */
export interface SignCodeManifestOptions {
  version: number;
  contents: CodeContents;
  /** Dispatcher keys; a threshold of the trust root's keys must sign. */
  signers: readonly SigningKey[];
  /** Issue time in epoch milliseconds. */
  issuedAt: number;
  /** Validity in milliseconds from `issuedAt`; must be positive. */
  validForMs: number;
}

/** Signs a code manifest with the dispatcher keys. */
export async function signCodeManifest(
  options: SignCodeManifestOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const { issuedAt, validForMs } = options;
  if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(validForMs) || validForMs <= 0) {
    throw new RangeError(
      `Cannot sign code manifest: issuedAt ${issuedAt} and validForMs ${validForMs} must be integers, validForMs positive`,
    );
  }
  if (options.signers.length === 0) throw new RangeError("Cannot sign code manifest: no signer");
  const payload = decodeCodeManifest({
    version: options.version,
    issued_at: formatTimestamp(issuedAt),
    expires_at: formatTimestamp(issuedAt + validForMs),
    files: options.contents.files,
    agents: options.contents.agents,
  }, "$");
  return await signStatement({
    payloadType: PAYLOAD_TYPES.codeManifest,
    payload,
    signers: options.signers,
  });
}

/** Options for {@linkcode verifyCodeManifest}. */
export interface VerifyCodeManifestOptions {
  /** The dispatcher keys and threshold of the verified trust root. */
  dispatcher: TrustedKeySet;
  clock: Clock;
  /** Allowed clock skew in milliseconds. */
  skewMs: number;
}

/** Verifies a signed code manifest (dispatcher threshold, validity window, shape). */
export async function verifyCodeManifest(
  bytes: Uint8Array,
  options: VerifyCodeManifestOptions,
): Promise<CodeManifest> {
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.codeManifest,
    trusted: [options.dispatcher],
    signatureCode: "dispatcher_signature",
    what: "code manifest",
    decode: decodeCodeManifest,
    clock: options.clock,
    skewMs: options.skewMs,
    maxBytes: MAX_CODE_MANIFEST_BYTES,
  });
  return verified.payload;
}
