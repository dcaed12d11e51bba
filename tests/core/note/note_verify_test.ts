import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import {
  ed25519Verifier,
  formatNote,
  keyIdOf,
  parseNote,
  signNoteEd25519,
  type Verifier,
  verifyNote,
} from "../../../core/primitives/note/note.ts";
import { parseVkey } from "../../../core/primitives/note/vkey.ts";
import { rejectsCode, throwsCode } from "../json/_fixtures.ts";
import { bytes, GO, keyFrom, peterKey } from "./_fixtures.ts";

const PETER = parseVkey(GO.peter_vkey);
const ENOCH = parseVkey(GO.enoch_vkey);
const peter = ed25519Verifier(PETER.name, PETER.publicKey);
const enoch = ed25519Verifier(ENOCH.name, ENOCH.publicKey);

function flipped(b: Uint8Array, i: number): Uint8Array {
  const out = b.slice();
  out[i]! ^= 0x01;
  return out;
}

Deno.test("keyIdOf() is SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4] computed independently", () => {
  for (
    const [name, type, key] of [
      ["PeterNeumann", 0x01, PETER.publicKey],
      ["EnochRoot", 0x01, ENOCH.publicKey],
      ["example.com/w", 0x04, new Uint8Array(32).fill(9)],
      ["日本", 0xff, new Uint8Array(0)],
    ] as const
  ) {
    const digest = createHash("sha256")
      .update(
        Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0x0a, type]), Buffer.from(key)]),
      )
      .digest();
    assert.equal(keyIdOf(name, type, key), digest.readUInt32BE(0), name);
  }
});

Deno.test("keyIdOf() gives the key IDs printed in the Go test's verifier keys", () => {
  assert.equal(keyIdOf("PeterNeumann", 1, PETER.publicKey), 0xc74f20a3);
  assert.equal(keyIdOf("EnochRoot", 1, ENOCH.publicKey), 0xaf0cfe78);
  // the same key under another type or name has another ID
  assert.notEqual(keyIdOf("PeterNeumann", 4, PETER.publicKey), 0xc74f20a3);
  assert.notEqual(keyIdOf("PeterNeumanN", 1, PETER.publicKey), 0xc74f20a3);
});

Deno.test("keyIdOf() refuses an invalid name or a type that is not a byte", () => {
  throwsCode(() => keyIdOf("a b", 1, PETER.publicKey), "parse_error");
  throwsCode(() => keyIdOf("", 1, PETER.publicKey), "parse_error");
  throwsCode(() => keyIdOf("a", 256, PETER.publicKey), "parse_error");
  throwsCode(() => keyIdOf("a", -1, PETER.publicKey), "parse_error");
});

Deno.test("signing the Go test's text with the Go test's key reproduces its signed note byte for byte", async () => {
  const key = await peterKey();
  assert.deepEqual(key.publicKey, PETER.publicKey);
  const sig = await signNoteEd25519(GO.text, { name: "PeterNeumann", key });
  assert.equal(sig.keyId, 0xc74f20a3);
  assert.equal(formatNote({ text: GO.text, signatures: [sig] }), GO.signed_note);
});

Deno.test("the Go test's note verifies under PeterNeumann's key", async () => {
  assert.deepEqual(await verifyNote(parseNote(GO.signed_note), [peter]), ["PeterNeumann"]);
});

Deno.test("with both keys known both Go signatures verify; with one, the other is ignored", async () => {
  const note = parseNote(`${GO.text}\n${GO.peter_sig_line}${GO.enoch_sig_line}`);
  assert.deepEqual(await verifyNote(note, [peter, enoch]), ["PeterNeumann", "EnochRoot"]);
  assert.deepEqual(await verifyNote(note, [enoch]), ["EnochRoot"]);
  assert.deepEqual(await verifyNote(note, [peter]), ["PeterNeumann"]);
});

Deno.test("a signature whose name or key ID matches a known key but not both is ignored", async () => {
  const note = parseNote(GO.signed_note);
  const sameName = { ...note.signatures[0]!, keyId: 0x12345678, bytes: new Uint8Array(64) };
  const sameId = { ...note.signatures[0]!, name: "CarmenSandiego", bytes: new Uint8Array(64) };
  const names = await verifyNote({
    text: note.text,
    signatures: [sameName, sameId, note.signatures[0]!],
  }, [peter]);
  assert.deepEqual(names, ["PeterNeumann"]);
});

Deno.test("a note with no signature by a known key is refused", async () => {
  const note = parseNote(GO.signed_note);
  const err = await rejectsCode(verifyNote(note, [enoch]), "bad_signature");
  assert.match(err.message, /none of its 1 signatures is by a known key/);
  await rejectsCode(verifyNote(note, []), "bad_signature");
});

Deno.test("a known key's bad signature rejects the whole note, even next to a good one", async () => {
  const note = parseNote(`${GO.text}\n${GO.peter_sig_line}${GO.enoch_sig_line}`);
  const [p, e] = note.signatures;
  for (let i = 0; i < 64; i += 9) {
    const bad = { ...e!, bytes: flipped(e!.bytes, i) };
    const err = await rejectsCode(
      verifyNote({ text: note.text, signatures: [p!, bad] }, [peter, enoch]),
      "bad_signature",
    );
    assert.match(err.message, /EnochRoot\+af0cfe78 does not verify/);
  }
  const truncated = { ...p!, bytes: p!.bytes.subarray(0, 63) };
  await rejectsCode(
    verifyNote({ text: note.text, signatures: [truncated] }, [peter]),
    "bad_signature",
  );
});

Deno.test("a note whose text changed in any byte is refused", async () => {
  const note = parseNote(GO.signed_note);
  await rejectsCode(
    verifyNote({ ...note, text: note.text.replace("cryptography", "cryptographY") }, [peter]),
    "bad_signature",
  );
  await rejectsCode(verifyNote({ ...note, text: `${note.text}\n` }, [peter]), "bad_signature");
  await rejectsCode(verifyNote({ ...note, text: note.text.slice(1) }, [peter]), "bad_signature");
});

Deno.test("a repeated good signature counts once; a repeated bad one is still refused", async () => {
  const note = parseNote(`${GO.text}\n${GO.peter_sig_line}${GO.peter_sig_line}`);
  assert.deepEqual(await verifyNote(note, [peter]), ["PeterNeumann"]);
  const bad = { ...note.signatures[0]!, bytes: flipped(note.signatures[0]!.bytes, 3) };
  await rejectsCode(
    verifyNote({ text: note.text, signatures: [note.signatures[0]!, bad] }, [peter]),
    "bad_signature",
  );
});

Deno.test("two verifiers for one (name, key ID) are refused when a signature needs them", async () => {
  const note = parseNote(GO.signed_note);
  const err = await rejectsCode(verifyNote(note, [peter, enoch, peter]), "bad_signature");
  assert.match(err.message, /2 verifiers are configured for key PeterNeumann\+c74f20a3/);
  // as in the Go test, an unused duplicate does no harm
  assert.deepEqual(await verifyNote(note, [enoch, peter, enoch]), ["PeterNeumann"]);
});

Deno.test("a verifier that throws counts as a failed signature", async () => {
  const throwing: Verifier = {
    name: "PeterNeumann",
    keyId: 0xc74f20a3,
    verify: () => Promise.reject(new Error("hsm offline")),
  };
  await rejectsCode(verifyNote(parseNote(GO.signed_note), [throwing]), "bad_signature");
});

Deno.test("signatures by a key made here verify here, and by another key do not", async () => {
  const key = await keyFrom(1);
  const other = await keyFrom(2);
  const text = "example.com/log\nsome statement\n";
  const sig = await signNoteEd25519(text, { name: "example.com/log", key });
  const note = parseNote(formatNote({ text, signatures: [sig] }));
  assert.deepEqual(await verifyNote(note, [ed25519Verifier("example.com/log", key.publicKey)]), [
    "example.com/log",
  ]);
  // the other key has another key ID, so its verifier does not even match
  await rejectsCode(
    verifyNote(note, [ed25519Verifier("example.com/log", other.publicKey)]),
    "bad_signature",
  );
  // a forged verifier claiming the right key ID still cannot verify
  const forged = ed25519Verifier("example.com/log", other.publicKey);
  await rejectsCode(verifyNote(note, [{ ...forged, keyId: sig.keyId }]), "bad_signature");
});

Deno.test("the verifier checks signatures over exact bytes, whatever array they come in", async () => {
  const key = await keyFrom(3);
  const sig = await signNoteEd25519("x\n", { name: "k", key });
  const v = ed25519Verifier("k", key.publicKey);
  const shared = new Uint8Array(new SharedArrayBuffer(64));
  shared.set(sig.bytes);
  assert.ok(await v.verify(bytes("x\n"), shared));
  assert.ok(!(await v.verify(bytes("x\n\n"), sig.bytes)));
});

Deno.test("signNoteEd25519() and ed25519Verifier() refuse bad texts, names and keys", async () => {
  const key = await keyFrom(4);
  await rejectsCode(signNoteEd25519("no newline", { name: "k", key }), "parse_error");
  await rejectsCode(signNoteEd25519("cr\r\n", { name: "k", key }), "parse_error");
  await rejectsCode(signNoteEd25519("ok\n", { name: "a+b", key }), "parse_error");
  throwsCode(() => ed25519Verifier("k", new Uint8Array(31)), "parse_error");
  throwsCode(() => ed25519Verifier("a b", key.publicKey), "parse_error");
});

Deno.test("verifyNote() refuses a malformed note before checking any signature", async () => {
  await rejectsCode(
    verifyNote({ text: "no newline", signatures: parseNote(GO.signed_note).signatures }, [peter]),
    "parse_error",
  );
  await rejectsCode(verifyNote({ text: GO.text, signatures: [] }, [peter]), "parse_error");
});
