/**
 * Fixtures of the note tests: the vectors of tests/testdata/note/ (the C2SP
 * specification examples, golang.org/x/mod/sumdb/note and transparency-dev/
 * formats; see tests/testdata/README.md), deterministic keys and byte helpers.
 *
 * @module
 */
import { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";

async function load<T>(name: string): Promise<T> {
  const url = new URL(`../../testdata/note/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url)) as T;
}

/** The example blocks of signed-note, tlog-checkpoint and tlog-cosignature. */
export const SPEC: {
  signed_note_example: string;
  checkpoint_example: string;
  cosigned_checkpoint_example: string;
  cosignature_message_example: string;
  cosignature_message_timestamp: number;
} = await load("c2sp_spec_examples.json");

/** The PeterNeumann and EnochRoot vectors of golang.org/x/mod/sumdb/note. */
export const GO: {
  peter_vkey: string;
  peter_skey: string;
  enoch_vkey: string;
  text: string;
  peter_sig_line: string;
  enoch_sig_line: string;
  signed_note: string;
  bad_vkeys: string[];
  bad_notes: { desc: string; note?: string; note_hex?: string }[];
} = await load("go_sumdb_note.json");

/** The verifier keys and cosignatures of transparency-dev/formats. */
export const FORMATS: {
  vkeys: { ed25519_with_plus_in_base64: string; cosignature_v1: string };
  bad_vkeys: Record<string, string>;
  cosignature_timestamp: { signature_base64: string; timestamp: number };
  not_a_cosignature_base64: string;
} = await load("transparency_dev_formats.json");

/** A signing key from a seed of 32 copies of `byte`. */
export function keyFrom(byte: number): Promise<SigningKey> {
  return SigningKey.fromSeed(new Uint8Array(32).fill(byte));
}

/** The PeterNeumann signing key: the seed inside the Go test's PRIVATE+KEY string. */
export function peterKey(): Promise<SigningKey> {
  const material = Uint8Array.fromBase64(GO.peter_skey.split("+").slice(4).join("+"));
  return SigningKey.fromSeed(material.subarray(1));
}

/** UTF-8 bytes of `text`. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A checkpoint text for tests. */
export const CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
