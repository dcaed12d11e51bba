/**
 * Loads the Merkle vectors of tests/testdata/merkle/ (copied from the
 * transparency-dev/merkle repository; see tests/testdata/README.md).
 *
 * @module
 */

/** The RFC 6962 reference values of rfc6962_test.go and verify_test.go. */
export interface ReferenceVectors {
  hasher: {
    empty_root: string;
    empty_leaf: { data: string; hash: string };
    leaf: { data: string; hash: string };
    node: { left: string; right: string; hash: string };
  };
  some_hash: string;
  leaves: string[];
  roots: string[];
  inclusion_proofs: { leaf: number; size: number; proof: string[] }[];
  consistency_proofs: { size1: number; size2: number; proof: string[] }[];
}

/** One case of testdata/inclusion/. Hashes are base64; `proof` may be null. */
export interface InclusionCase {
  path: string;
  commit: string;
  case: {
    leafIdx: number;
    treeSize: number;
    root: string;
    leafHash: string;
    proof: string[] | null;
    desc: string;
    wantErr: boolean;
  };
}

/** One case of testdata/consistency/. Hashes are base64; `proof` may be null. */
export interface ConsistencyCase {
  path: string;
  commit: string;
  case: {
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[] | null;
    desc: string;
    wantErr: boolean;
  };
}

async function load<T>(name: string): Promise<T> {
  const url = new URL(`../../testdata/merkle/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as T;
}

/** The reference tree of RFC 6962 test values. */
export const REFERENCE: ReferenceVectors = await load<ReferenceVectors>("rfc6962_reference.json");
/** The inclusion cases of transparency-dev/merkle testdata. */
export const INCLUSION_CASES: InclusionCase[] =
  (await load<{ cases: InclusionCase[] }>("transparency_dev_inclusion.json")).cases;
/** The consistency cases of transparency-dev/merkle testdata. */
export const CONSISTENCY_CASES: ConsistencyCase[] =
  (await load<{ cases: ConsistencyCase[] }>("transparency_dev_consistency.json")).cases;

/** Decodes lowercase hex. */
export const hex = (text: string): Uint8Array => Uint8Array.fromHex(text);
/** Decodes (possibly empty) standard base64. */
export const b64 = (text: string): Uint8Array => Uint8Array.fromBase64(text);
