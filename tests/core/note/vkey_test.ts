import assert from "node:assert/strict";
import { SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519 } from "../../../core/primitives/note/key_id.ts";
import { parseNote, verifyNote } from "../../../core/primitives/note/note.ts";
import { encodeVkey, parseVkey, vkeyVerifier } from "../../../core/primitives/note/vkey.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { FORMATS, GO, keyFrom } from "./_fixtures.ts";

Deno.test("the Go and transparency-dev verifier keys parse and encode back unchanged", () => {
  const cases = [
    [GO.peter_vkey, "PeterNeumann", 0xc74f20a3, SIG_TYPE_ED25519],
    [GO.enoch_vkey, "EnochRoot", 0xaf0cfe78, SIG_TYPE_ED25519],
    [FORMATS.vkeys.ed25519_with_plus_in_base64, "TEST", 0x7997405c, SIG_TYPE_ED25519],
    [FORMATS.vkeys.cosignature_v1, "remora.n621.de", 0xda77ade7, SIG_TYPE_COSIGNATURE_V1],
  ] as const;
  for (const [text, name, keyId, type] of cases) {
    const k = parseVkey(text);
    assert.deepEqual(
      [k.name, k.keyId, k.type, k.publicKey.byteLength],
      [name, keyId, type, 32],
      text,
    );
    assert.equal(encodeVkey(k.name, k.type, k.publicKey), text);
  }
});

Deno.test("a verifier key made here round-trips for both key types", async () => {
  const key = await keyFrom(8);
  for (const type of [SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE_V1]) {
    const text = encodeVkey("witness.example/w1", type, key.publicKey);
    assert.deepEqual(parseVkey(text).publicKey, key.publicKey);
    assert.equal(parseVkey(text).type, type);
  }
});

Deno.test("a verifier key whose key ID does not match is refused, and the message says so", () => {
  const [name, , material] = GO.peter_vkey.split("+");
  for (const id of ["c74f20a4", "00000000", "a3204fc7"]) {
    const err = throwsCode(() => parseVkey(`${name}+${id}+${material}`), "parse_error");
    assert.match(err.message, /does not match the key \(it is c74f20a3\)/);
  }
  // a key ID that matches a key under another name is still a mismatch
  throwsCode(() => parseVkey(GO.peter_vkey.replace("PeterNeumann", "PeterNeuman")), "parse_error");
});

Deno.test("the Go test's bad keys are refused: a wrong-length key and an unknown type", () => {
  for (const text of GO.bad_vkeys) throwsCode(() => parseVkey(text), "parse_error");
});

Deno.test("transparency-dev's malformed verifier keys are refused", () => {
  for (const text of Object.values(FORMATS.bad_vkeys)) {
    throwsCode(() => parseVkey(text), "parse_error");
  }
});

Deno.test("every truncation and every single-byte change of a verifier key is refused", () => {
  const text = GO.peter_vkey;
  for (let i = 0; i < text.length; i++) {
    for (let j = i + 1; j <= text.length; j++) {
      if (i === 0 && j === text.length) continue;
      throwsCode(() => parseVkey(text.slice(i, j)), "parse_error");
    }
    const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) + 1) +
      text.slice(i + 1);
    throwsCode(() => parseVkey(changed), "parse_error");
  }
});

Deno.test("uppercase hex, a bad name, non-canonical base64 and other types are refused", async () => {
  throwsCode(() => parseVkey(GO.peter_vkey.replace("c74f20a3", "C74F20A3")), "parse_error");
  throwsCode(
    () => parseVkey(`Peter Neumann+c74f20a3+${GO.peter_vkey.split("+")[2]}`),
    "parse_error",
  );
  throwsCode(() => parseVkey(GO.peter_vkey.slice(0, -1)), "parse_error");
  throwsCode(() => parseVkey(`${GO.peter_vkey}\n`), "parse_error");
  throwsCode(() => parseVkey(""), "parse_error");
  throwsCode(() => parseVkey("name+c74f20a3+"), "parse_error");
  const key = await keyFrom(8);
  for (const type of [0x00, 0x02, 0x05, 0x06, 0xff]) {
    throwsCode(() => encodeVkey("k", type, key.publicKey), "parse_error");
  }
  throwsCode(() => encodeVkey("k", SIG_TYPE_ED25519, key.publicKey.subarray(1)), "parse_error");
  throwsCode(() => encodeVkey("k+1", SIG_TYPE_ED25519, key.publicKey), "parse_error");
});

Deno.test("vkeyVerifier() configures a verifier that opens the Go test's note", async () => {
  const names = await verifyNote(parseNote(GO.signed_note), [vkeyVerifier(GO.peter_vkey)]);
  assert.deepEqual(names, ["PeterNeumann"]);
  const cosigner = vkeyVerifier(FORMATS.vkeys.cosignature_v1);
  assert.equal(cosigner.keyId, 0xda77ade7);
});
