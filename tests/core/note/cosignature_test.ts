import assert from "node:assert/strict";
import {
  COSIGNATURE_BYTES,
  cosignatureKeyId,
  cosignatureMessage,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignCheckpoint,
} from "../../../core/primitives/note/cosignature.ts";
import { keyIdOf } from "../../../core/primitives/note/key_id.ts";
import {
  ed25519Verifier,
  formatNote,
  type NoteSignature,
  parseNote,
  signNoteEd25519,
  verifyNote,
} from "../../../core/primitives/note/note.ts";
import { rejectsCode, throwsCode } from "../json/_fixtures.ts";
import { bytes, CHECKPOINT, FORMATS, keyFrom, SPEC } from "./_fixtures.ts";

const NAME = "witness.example.com/w1";
const T = 1_700_000_000;

Deno.test("the signed message has the layout of the tlog-cosignature example", () => {
  const message = cosignatureMessage(CHECKPOINT, SPEC.cosignature_message_timestamp);
  assert.equal(new TextDecoder().decode(message), SPEC.cosignature_message_example);
});

Deno.test("the spec's cosigned checkpoint parses: the witness line carries its timestamp", () => {
  const note = parseNote(SPEC.cosigned_checkpoint_example);
  assert.equal(note.text, CHECKPOINT);
  const witness = note.signatures.find((s) => s.name === "witness.example.com/w1")!;
  assert.equal(witness.bytes.byteLength, COSIGNATURE_BYTES);
  assert.equal(cosignatureTimestamp(witness), 1679315147);
});

Deno.test("transparency-dev's cosignature carries the timestamp its test expects", () => {
  const raw = Uint8Array.fromBase64(FORMATS.cosignature_timestamp.signature_base64);
  const sig: NoteSignature = { name: "w", keyId: 0, bytes: raw.subarray(4) };
  assert.equal(cosignatureTimestamp(sig), FORMATS.cosignature_timestamp.timestamp);
  const plain = Uint8Array.fromBase64(FORMATS.not_a_cosignature_base64);
  throwsCode(
    () => cosignatureTimestamp({ name: "w", keyId: 0, bytes: plain.subarray(4) }),
    "parse_error",
  );
});

Deno.test("cosignatureKeyId() uses signature type 0x04, so it differs from the note key ID", async () => {
  const key = await keyFrom(11);
  assert.equal(cosignatureKeyId(NAME, key.publicKey), keyIdOf(NAME, 0x04, key.publicKey));
  assert.notEqual(cosignatureKeyId(NAME, key.publicKey), keyIdOf(NAME, 0x01, key.publicKey));
  throwsCode(() => cosignatureKeyId(NAME, new Uint8Array(31)), "parse_error");
});

Deno.test("a cosignature made here is a u64 timestamp and an Ed25519 signature of the message", async () => {
  const key = await keyFrom(11);
  const sig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp: T });
  assert.equal(sig.name, NAME);
  assert.equal(sig.keyId, cosignatureKeyId(NAME, key.publicKey));
  assert.equal(sig.bytes.byteLength, 72);
  assert.equal(new DataView(sig.bytes.buffer, sig.bytes.byteOffset).getBigUint64(0), BigInt(T));
  assert.equal(cosignatureTimestamp(sig), T);
  // Ed25519 is deterministic: the signature is the plain signature of the message
  assert.deepEqual(sig.bytes.subarray(8), await key.sign(cosignatureMessage(CHECKPOINT, T)));
});

Deno.test("a cosignature made here verifies here through verifyNote", async () => {
  const key = await keyFrom(11);
  const sig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp: T });
  const note = parseNote(formatNote({ text: CHECKPOINT, signatures: [sig] }));
  assert.deepEqual(await verifyNote(note, [cosignatureVerifier(NAME, key.publicKey)]), [NAME]);
});

Deno.test("a cosignature is refused after any byte of the checkpoint text changes", async () => {
  const key = await keyFrom(11);
  const sig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp: T });
  const v = cosignatureVerifier(NAME, key.publicKey);
  const text = bytes(CHECKPOINT);
  assert.ok(await v.verify(text, sig.bytes));
  for (let i = 0; i < text.length; i++) {
    const changed = text.slice();
    changed[i]! ^= 0x01;
    assert.equal(await v.verify(changed, sig.bytes), false, `byte ${i}`);
  }
  assert.equal(await v.verify(text.subarray(0, -1), sig.bytes), false);
  assert.equal(await v.verify(bytes(`${CHECKPOINT}ext\n`), sig.bytes), false);
  const changedNote = { text: CHECKPOINT.replace("20852163", "20852164"), signatures: [sig] };
  await rejectsCode(verifyNote(changedNote, [v]), "bad_signature");
});

Deno.test("a cosignature is refused when its timestamp or signature bytes change", async () => {
  const key = await keyFrom(11);
  const sig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp: T });
  const v = cosignatureVerifier(NAME, key.publicKey);
  const text = bytes(CHECKPOINT);
  for (let i = 0; i < sig.bytes.length; i += 5) {
    const changed = sig.bytes.slice();
    changed[i]! ^= 0x80;
    assert.equal(await v.verify(text, changed), false, `byte ${i}`);
  }
  assert.equal(await v.verify(text, sig.bytes.subarray(0, 71)), false);
  assert.equal(await v.verify(text, new Uint8Array([...sig.bytes, 0])), false);
  const huge = sig.bytes.slice();
  huge.fill(0xff, 0, 8); // 2^64 - 1, beyond 2^63 - 1
  assert.equal(await v.verify(text, huge), false);
});

Deno.test("the extension lines are covered by the cosignature", async () => {
  const key = await keyFrom(12);
  const text = `${CHECKPOINT}Extendo\n`;
  const sig = await cosignCheckpoint(text, { name: NAME, key, timestamp: T });
  const v = cosignatureVerifier(NAME, key.publicKey);
  assert.ok(await v.verify(bytes(text), sig.bytes));
  assert.equal(await v.verify(bytes(`${CHECKPOINT}Extend@\n`), sig.bytes), false);
});

Deno.test("a cosignature does not verify as a note signature, nor a note signature as a cosignature", async () => {
  const key = await keyFrom(13);
  const cosig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp: T });
  const plain = await signNoteEd25519(CHECKPOINT, { name: NAME, key });
  const noteV = ed25519Verifier(NAME, key.publicKey);
  const cosigV = cosignatureVerifier(NAME, key.publicKey);
  assert.notEqual(noteV.keyId, cosigV.keyId);
  assert.equal(await noteV.verify(bytes(CHECKPOINT), cosig.bytes), false);
  assert.equal(await cosigV.verify(bytes(CHECKPOINT), plain.bytes), false);
  // each verifier ignores the other's line, so only its own counts
  const note = { text: CHECKPOINT, signatures: [plain, cosig] };
  assert.deepEqual(await verifyNote(note, [cosigV]), [NAME]);
  assert.deepEqual(await verifyNote(note, [noteV]), [NAME]);
});

Deno.test("cosigning refuses a text that is not a checkpoint, a bad timestamp or a bad name", async () => {
  const key = await keyFrom(14);
  for (const text of ["not a checkpoint\n", "o\n01\nAAAA\n", CHECKPOINT.slice(0, -1)]) {
    await rejectsCode(cosignCheckpoint(text, { name: NAME, key, timestamp: T }), "parse_error");
  }
  for (const timestamp of [-1, 1.5, 2 ** 53, Number.NaN]) {
    await rejectsCode(cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp }), "parse_error");
  }
  await rejectsCode(
    cosignCheckpoint(CHECKPOINT, { name: "a b", key, timestamp: T }),
    "parse_error",
  );
  throwsCode(() => cosignatureVerifier(NAME, new Uint8Array(33)), "parse_error");
});

Deno.test("timestamps from 0 to 2^53 - 1 are signed and read back exactly", async () => {
  const key = await keyFrom(15);
  const v = cosignatureVerifier(NAME, key.publicKey);
  for (const timestamp of [0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const sig = await cosignCheckpoint(CHECKPOINT, { name: NAME, key, timestamp });
    assert.equal(cosignatureTimestamp(sig), timestamp);
    assert.ok(await v.verify(bytes(CHECKPOINT), sig.bytes));
  }
  const beyond = new Uint8Array(72);
  new DataView(beyond.buffer).setBigUint64(0, 2n ** 53n);
  throwsCode(() => cosignatureTimestamp({ name: NAME, keyId: 0, bytes: beyond }), "parse_error");
});
