/**
 * Proofs about the ledger that verify offline (`saoe audit prove`, `saoe audit
 * verify-proof`): a checkpoint note (signed by the log, cosigned by witnesses
 * when it was witnessed), inclusion proofs of records against it (each with the
 * record's exact bytes) and a consistency proof from an earlier tree size.
 *
 * A bundle asserts nothing by itself: the verifier brings its own trust (the
 * log's keys and the witness policy) and checks every hash up to the signed root.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, toBase64 } from "../../primitives/crypto/bytes.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import {
  arr,
  type Decoded,
  int,
  literal,
  obj,
  optional,
  str,
} from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import { leafHash } from "../../primitives/merkle/hash.ts";
import { verifyConsistency, verifyInclusion } from "../../primitives/merkle/proof.ts";
import {
  type CheckpointHead,
  verifyLedgerCheckpoint,
  verifyWitnessedCheckpoint,
  type WitnessPolicy,
} from "./checkpoint.ts";

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const hash = str({ pattern: BASE64_RE, maxLength: 44 });

const decodeBundle = obj({
  format: literal("saoe-ledger-proof/1"),
  origin: str({ maxLength: 255 }),
  /** The checkpoint every proof is against, as a signed note. */
  checkpoint: str({ maxLength: 16 * 1024 }),
  /** True when `checkpoint` carries witness cosignatures meeting the home's policy when proven. */
  witnessed: optional(literal(true)),
  inclusion: arr(
    obj({
      /** 1-based record number. */
      seq: int(1),
      /** The record's exact bytes (base64). */
      record: str({ pattern: BASE64_RE, maxLength: 96 * 1024 }),
      proof: arr(hash, 64),
    }),
    100_000,
  ),
  consistency: optional(obj({
    old_size: int(0),
    old_root: hash,
    proof: arr(hash, 64),
    /** The log-signed checkpoint at `old_size`, when the ledger holds one. */
    old_checkpoint: optional(str({ maxLength: 16 * 1024 })),
  })),
});

/** A proof bundle as written to a file. */
export type ProofBundle = Decoded<typeof decodeBundle>;

/** Encodes hashes for a bundle. */
export function hashesToBase64(hashes: readonly Uint8Array[]): string[] {
  return hashes.map((h) => toBase64(h));
}

/** Parses a bundle file strictly. */
export function parseProofBundle(bytes: Uint8Array): ProofBundle {
  return decodeBundle(parseStrictJson(bytes, { maxBytes: 64 * 1024 * 1024 }), "$");
}

/** What to trust when checking a bundle. */
export interface BundleTrust {
  origin: string;
  logKeys: TrustedKeySet;
  /** When given, the checkpoint must be cosigned per this policy. */
  policy?: WitnessPolicy;
}

/** What a bundle proved. */
export interface BundleResult {
  head: CheckpointHead;
  /** Witnesses whose cosignatures verified (empty without a policy). */
  cosigners: string[];
  /** Record numbers proven included. */
  included: number[];
  /** The earlier size proven a prefix, when the bundle has a consistency proof. */
  consistentFrom?: number;
}

function bytesOf(b64: string, what: string): Uint8Array<ArrayBuffer> {
  return fromBase64(b64, what);
}

/**
 * Verifies every proof of `bundle` against its checkpoint, and the checkpoint
 * against `trust`; throws `checkpoint_signature` or `ledger_broken` naming the
 * first proof that fails.
 *
 * @example
 * ```ts ignore
 * const result = await verifyProofBundle(parseProofBundle(bytes), { origin, logKeys, policy });
 * console.log(result.included);
 * ```
 */
export async function verifyProofBundle(
  bundle: ProofBundle,
  trust: BundleTrust,
): Promise<BundleResult> {
  if (bundle.origin !== trust.origin) {
    throw new SaoeError(
      "checkpoint_signature",
      `The proof is about log ${JSON.stringify(bundle.origin)}, not ${
        JSON.stringify(trust.origin)
      }`,
    );
  }
  let head: CheckpointHead;
  let cosigners: string[] = [];
  if (trust.policy !== undefined) {
    const witnessed = await verifyWitnessedCheckpoint(bundle.checkpoint, {
      origin: trust.origin,
      logKeys: trust.logKeys,
      policy: trust.policy,
      what: "the proof's checkpoint",
    });
    head = witnessed;
    cosigners = witnessed.cosigners.map((c) => c.name);
  } else {
    head = await verifyLedgerCheckpoint(bundle.checkpoint, {
      origin: trust.origin,
      logKeys: trust.logKeys,
      what: "the proof's checkpoint",
    });
  }
  const included: number[] = [];
  for (const item of bundle.inclusion) {
    const ok = item.seq <= head.size && verifyInclusion({
      leafHash: leafHash(bytesOf(item.record, `record ${item.seq}`)),
      index: item.seq - 1,
      size: head.size,
      proof: item.proof.map((p) => bytesOf(p, "proof hash")),
      root: head.root,
    });
    if (!ok) {
      throw new SaoeError(
        "ledger_broken",
        `The inclusion proof of record ${item.seq} does not verify against the checkpoint of ${head.size} records`,
      );
    }
    included.push(item.seq);
  }
  const result: BundleResult = { head, cosigners, included };
  const c = bundle.consistency;
  if (c !== undefined) {
    const oldRoot = bytesOf(c.old_root, "old root");
    if (c.old_checkpoint !== undefined) {
      const old = await verifyLedgerCheckpoint(c.old_checkpoint, {
        origin: trust.origin,
        logKeys: trust.logKeys,
        what: "the proof's earlier checkpoint",
      });
      if (old.size !== c.old_size || toBase64(old.root) !== c.old_root) {
        throw new SaoeError(
          "ledger_broken",
          `The earlier checkpoint signs ${old.size} records, not the ${c.old_size} the proof names`,
        );
      }
    }
    const ok = verifyConsistency({
      oldSize: c.old_size,
      newSize: head.size,
      oldRoot,
      newRoot: head.root,
      proof: c.proof.map((p) => bytesOf(p, "proof hash")),
    });
    if (!ok) {
      throw new SaoeError(
        "ledger_broken",
        `The consistency proof from ${c.old_size} to ${head.size} records does not verify: the later tree does not extend the earlier one`,
      );
    }
    result.consistentFrom = c.old_size;
  }
  return result;
}
