import assert from "node:assert/strict";
import { toHex } from "../../../core/primitives/crypto/bytes.ts";
import { parseDsse } from "../../../core/primitives/dsse/parse.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { verifySignatures, verifyStatement } from "../../../core/primitives/dsse/verify.ts";
import { rejectsCode } from "../json/_fixtures.ts";
import {
  editWrapper,
  entry,
  keyFrom,
  readWrapper,
  SKEW_MS,
  statement,
  T0,
  TEST_TYPE,
  trustedSet,
  TTL_MS,
  verifyOptions,
} from "./_fixtures.ts";

const A = await keyFrom(1);
const B = await keyFrom(2);
const C = await keyFrom(3);
const UNTRUSTED = await keyFrom(9);

const onlyA = [trustedSet("key A", [entry(A)], 1)];

function sign(
  payload: Uint8Array<ArrayBuffer> | Record<string, unknown>,
  signers = [A],
  payloadType = TEST_TYPE,
) {
  return signStatement({ payloadType, payload, signers });
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("verifyStatement() accepts a statement it signed and returns its payload, bytes and signer", async () => {
  const payload = statement(7);
  const signed = await sign({ ...payload });
  const out = await verifyStatement(signed, verifyOptions(onlyA));
  assert.deepEqual(out.payload, payload);
  assert.deepEqual(out.payloadBytes, bytes(JSON.stringify(payload)));
  assert.deepEqual([...out.signers], [toHex(A.publicKey)]);
});

Deno.test("verifyStatement() accepts an envelope that was parsed already", async () => {
  const env = parseDsse(await sign({ ...statement(1) }), 4096);
  assert.equal((await verifyStatement(env, verifyOptions(onlyA))).payload.n, 1);
});

Deno.test("verifyStatement() refuses a payload with one byte changed", async () => {
  const signed = await sign({ ...statement(1) });
  const tampered = editWrapper(signed, (w) => {
    // still valid JSON with the same shape: only the signature can catch it
    w.payload = bytes(atob(w.payload).replace('"n":1', '"n":2')).toBase64();
  });
  await verifyStatement(signed, verifyOptions(onlyA));
  await rejectsCode(verifyStatement(tampered, verifyOptions(onlyA)), "capset_signature");
});

Deno.test("verifyStatement() refuses a statement whose payloadType was changed after signing", async () => {
  const signed = await sign({ ...statement(1) }, [A], "application/vnd.saoe.plan.v1+json");
  const retyped = editWrapper(signed, (w) => {
    w.payloadType = TEST_TYPE;
  });
  // the PAE binds the type: relabelling a plan as another kind breaks the signature
  await rejectsCode(verifyStatement(retyped, verifyOptions(onlyA)), "capset_signature");
});

Deno.test("verifyStatement() refuses a signature moved from another statement by the same key", async () => {
  const first = await sign({ ...statement(1) });
  const second = await sign({ ...statement(2) });
  const swapped = editWrapper(first, (w) => {
    w.signatures = readWrapper(second).signatures;
  });
  await rejectsCode(verifyStatement(swapped, verifyOptions(onlyA)), "capset_signature");
});

Deno.test("verifyStatement() refuses another payload type with wrong_payload_type", async () => {
  const signed = await sign({ ...statement(1) }, [A], "application/vnd.saoe.capset.v1+json");
  await rejectsCode(verifyStatement(signed, verifyOptions(onlyA)), "wrong_payload_type");
});

Deno.test("verifyStatement() refuses a statement signed only by an untrusted key", async () => {
  const signed = await sign({ ...statement(1) }, [UNTRUSTED]);
  await rejectsCode(verifyStatement(signed, verifyOptions(onlyA)), "capset_signature");
});

Deno.test("verifyStatement() verifies signatures before it parses the payload", async () => {
  const cases: [Uint8Array<ArrayBuffer>, "parse_error" | "duplicate_key"][] = [
    [bytes("not json at all"), "parse_error"],
    [
      bytes('{"n":1,"n":2,"issued_at":"2026-03-01T12:00:00Z","expires_at":"2026-03-01T12:01:00Z"}'),
      "duplicate_key",
    ],
    [Uint8Array.from([0x7b, 0xff, 0x7d]), "parse_error"],
  ];
  for (const [payload, parseCode] of cases) {
    // signed by a trusted key: signatures pass, then the payload parse refuses it
    const good = await sign(payload, [A]);
    const env = parseDsse(good, 4096);
    await verifySignatures(env, verifyOptions(onlyA));
    await rejectsCode(verifyStatement(good, verifyOptions(onlyA)), parseCode);
    // the same malformed payload with a bad signature: the signature code comes first
    const bad = await sign(payload, [UNTRUSTED]);
    await rejectsCode(verifyStatement(bad, verifyOptions(onlyA)), "capset_signature");
  }
});

Deno.test("verifyStatement() counts a signature for the key that made it, whatever its keyid says", async () => {
  const signed = editWrapper(await sign({ ...statement(1) }, [A]), (w) => {
    w.signatures[0]!.keyid = B.keyid;
  });
  const both = [trustedSet("A or B", [entry(A), entry(B)], 1)];
  const out = await verifyStatement(signed, verifyOptions(both));
  assert.deepEqual([...out.signers], [toHex(A.publicKey)]);
  // a keyid naming B does not make A's signature count for B
  const onlyB = [trustedSet("key B", [entry(B)], 1)];
  await rejectsCode(verifyStatement(signed, verifyOptions(onlyB)), "capset_signature");
});

Deno.test("verifyStatement() accepts a signature whose keyid matches no trusted key", async () => {
  const signed = editWrapper(await sign({ ...statement(1) }, [A]), (w) => {
    w.signatures[0]!.keyid = "no-such-key";
  });
  assert.equal((await verifyStatement(signed, verifyOptions(onlyA))).payload.n, 1);
});

Deno.test("verifyStatement() counts one key listed under two keyids once toward a threshold", async () => {
  // the attacker holds A only and signs twice, once under each of A's keyids
  const signed = editWrapper(await sign({ ...statement(1) }, [A, A]), (w) => {
    w.signatures[0]!.keyid = "a1";
    w.signatures[1]!.keyid = "a2";
  });
  const set = trustedSet("A twice and B", [entry(A, "a1"), entry(A, "a2"), entry(B)], 2);
  await rejectsCode(verifyStatement(signed, verifyOptions([set])), "capset_signature");
  const byAandB = await sign({ ...statement(1) }, [A, B]);
  assert.equal((await verifyStatement(byAandB, verifyOptions([set]))).signers.size, 2);
});

Deno.test("verifyStatement() refuses threshold 2 over one key listed twice as bad_threshold", async () => {
  const signed = await sign({ ...statement(1) }, [A, A]);
  const set = trustedSet("A twice", [entry(A, "a1"), entry(A, "a2")], 2);
  await rejectsCode(verifyStatement(signed, verifyOptions([set])), "bad_threshold");
});

Deno.test("verifyStatement() refuses threshold 0, a threshold above the distinct keys and non-integers", async () => {
  const signed = await sign({ ...statement(1) }, [A, B]);
  for (const threshold of [0, -1, 3, 1.5, NaN, Infinity]) {
    const set = trustedSet("A and B", [entry(A), entry(B)], threshold);
    await rejectsCode(verifyStatement(signed, verifyOptions([set])), "bad_threshold");
  }
});

Deno.test("verifyStatement() refuses an empty list of trusted sets instead of requiring nothing", async () => {
  const signed = await sign({ ...statement(1) }, [A]);
  await rejectsCode(verifyStatement(signed, verifyOptions([])), "bad_threshold");
});

Deno.test("verifyStatement() requires every trusted set: the old keys and the new ones", async () => {
  const old = trustedSet("root v1", [entry(A), entry(B)], 2);
  const next = trustedSet("root v2", [entry(C)], 1);
  const both = [old, next];
  const err = await rejectsCode(
    verifyStatement(await sign({ ...statement(1) }, [A, B]), verifyOptions(both)),
    "capset_signature",
  );
  assert.match(err.message, /root v2/);
  await rejectsCode(
    verifyStatement(await sign({ ...statement(1) }, [C]), verifyOptions(both)),
    "capset_signature",
  );
  await rejectsCode(
    verifyStatement(await sign({ ...statement(1) }, [A, C]), verifyOptions(both)),
    "capset_signature",
  );
  const ok = await verifyStatement(await sign({ ...statement(1) }, [C, B, A]), verifyOptions(both));
  assert.equal(ok.signers.size, 3);
});

Deno.test("verifyStatement() refuses non-canonical base64 in the payload or a signature", async () => {
  const signed = await sign({ ...statement(1) });
  const spoilers: ((w: ReturnType<typeof readWrapper>) => void)[] = [
    (w) => (w.signatures[0]!.sig = w.signatures[0]!.sig.replace(/=+$/, "")),
    (w) => (w.signatures[0]!.sig = " " + w.signatures[0]!.sig),
    // URL alphabet: were "-" accepted as "+", the result would be a signature refusal
    (w) => (w.signatures[0]!.sig = "-" + w.signatures[0]!.sig.slice(1)),
    (w) => (w.payload = w.payload.replace(/=+$/, "") + "\n"),
    (w) => (w.payload = w.payload.slice(0, 4) + "\r\n" + w.payload.slice(4)),
    (w) => (w.payload = "_" + w.payload.slice(1)),
  ];
  for (const spoil of spoilers) {
    await rejectsCode(
      verifyStatement(editWrapper(signed, spoil), verifyOptions(onlyA)),
      "parse_error",
    );
  }
});

Deno.test("verifyStatement() refuses extra fields in the wrapper or a signature", async () => {
  const signed = await sign({ ...statement(1) });
  const extraTop = editWrapper(signed, (w) => (w.note = "x"));
  const extraSig = editWrapper(signed, (w) => {
    (w.signatures[0] as Record<string, string>).cert = "x";
  });
  await rejectsCode(verifyStatement(extraTop, verifyOptions(onlyA)), "parse_error");
  await rejectsCode(verifyStatement(extraSig, verifyOptions(onlyA)), "parse_error");
});

Deno.test("verifyStatement() refuses zero signatures and more than 16", async () => {
  const none = editWrapper(await sign({ ...statement(1) }), (w) => (w.signatures = []));
  await rejectsCode(verifyStatement(none, verifyOptions(onlyA)), "parse_error");
  const many = await sign({ ...statement(1) }, Array.from({ length: 17 }, () => A));
  await rejectsCode(verifyStatement(many, verifyOptions(onlyA)), "parse_error");
  const sixteen = await sign({ ...statement(1) }, Array.from({ length: 16 }, () => A));
  assert.equal((await verifyStatement(sixteen, verifyOptions(onlyA))).signers.size, 1);
});

Deno.test("verifyStatement() refuses a statement over maxBytes before parsing it", async () => {
  const signed = await sign({ ...statement(1) });
  const options = { ...verifyOptions(onlyA), maxBytes: signed.byteLength - 1 };
  await rejectsCode(verifyStatement(signed, options), "size_exceeded");
});

Deno.test("verifyStatement() accepts an expired statement within the skew and refuses it one ms later", async () => {
  const signed = await sign({ ...statement(1, T0) });
  const expiresAt = T0 + TTL_MS;
  await verifyStatement(signed, verifyOptions(onlyA, expiresAt));
  await verifyStatement(signed, verifyOptions(onlyA, expiresAt + SKEW_MS));
  await rejectsCode(
    verifyStatement(signed, verifyOptions(onlyA, expiresAt + SKEW_MS + 1)),
    "expired",
  );
  await rejectsCode(
    verifyStatement(signed, verifyOptions(onlyA, expiresAt + 86_400_000)),
    "expired",
  );
});

Deno.test("verifyStatement() accepts a future-dated statement within the skew and refuses it beyond", async () => {
  const signed = await sign({ ...statement(1, T0) });
  await verifyStatement(signed, verifyOptions(onlyA, T0 - SKEW_MS));
  await rejectsCode(verifyStatement(signed, verifyOptions(onlyA, T0 - SKEW_MS - 1)), "expired");
});

Deno.test("verifyStatement() checks freshness only after signatures: a forged fresh date does not help", async () => {
  const signed = await sign({ ...statement(1, T0) });
  const redated = editWrapper(signed, (w) => {
    w.payload = bytes(JSON.stringify(statement(1, T0 + 10 * TTL_MS))).toBase64();
  });
  await rejectsCode(
    verifyStatement(redated, verifyOptions(onlyA, T0 + 10 * TTL_MS)),
    "capset_signature",
  );
});

Deno.test("verifyStatement() refuses a payload with an unknown field after verifying it", async () => {
  const signed = await sign({ ...statement(1), admin: true });
  await rejectsCode(verifyStatement(signed, verifyOptions(onlyA)), "parse_error");
});
