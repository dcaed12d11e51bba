import assert from "node:assert/strict";
import { MAX_SIGNATURES, parseDsse } from "../../../core/primitives/dsse/parse.ts";
import { throwsCode } from "../json/_fixtures.ts";

// [0xfb, 0xff] encodes to "+/8=", so the URL alphabet spelling is "-_8="
const PAYLOAD_B64 = "+/8=";
const SIG_B64 = new Uint8Array(64).fill(0xfb).toBase64();

function doc(fields: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(fields));
}

function wrapper(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    payloadType: "t",
    payload: PAYLOAD_B64,
    signatures: [{ keyid: "k", sig: SIG_B64 }],
    ...overrides,
  };
}

Deno.test("parseDsse() decodes payload and signatures from canonical base64", () => {
  const env = parseDsse(doc(wrapper()), 4096);
  assert.equal(env.payloadType, "t");
  assert.deepEqual(env.payload, Uint8Array.from([0xfb, 0xff]));
  assert.equal(env.signatures.length, 1);
  assert.equal(env.signatures[0]!.keyid, "k");
  assert.deepEqual(env.signatures[0]!.sig, new Uint8Array(64).fill(0xfb));
});

const NON_CANONICAL: [string, (b64: string) => string][] = [
  ["missing padding", (b) => b.replace(/=+$/, "")],
  ["a space", (b) => b.slice(0, 2) + " " + b.slice(2)],
  ["a newline", (b) => b + "\n"],
  ["the URL alphabet", (b) => b.replaceAll("+", "-").replaceAll("/", "_")],
];

for (const [what, spoil] of NON_CANONICAL) {
  Deno.test(`parseDsse() refuses a payload in base64 with ${what}`, () => {
    throwsCode(() => parseDsse(doc(wrapper({ payload: spoil(PAYLOAD_B64) })), 4096), "parse_error");
  });
  Deno.test(`parseDsse() refuses a signature in base64 with ${what}`, () => {
    const signatures = [{ keyid: "k", sig: spoil(SIG_B64) }];
    throwsCode(() => parseDsse(doc(wrapper({ signatures })), 4096), "parse_error");
  });
}

Deno.test("parseDsse() refuses an extra field in the wrapper", () => {
  throwsCode(() => parseDsse(doc(wrapper({ payloadEncoding: "base64" })), 4096), "parse_error");
});

Deno.test("parseDsse() refuses an extra field in a signature", () => {
  const signatures = [{ keyid: "k", sig: SIG_B64, cert: "x" }];
  throwsCode(() => parseDsse(doc(wrapper({ signatures })), 4096), "parse_error");
});

Deno.test("parseDsse() refuses a missing field", () => {
  for (const field of ["payloadType", "payload", "signatures"]) {
    const w = wrapper();
    delete w[field];
    throwsCode(() => parseDsse(doc(w), 4096), "parse_error");
  }
  throwsCode(
    () => parseDsse(doc(wrapper({ signatures: [{ sig: SIG_B64 }] })), 4096),
    "parse_error",
  );
});

Deno.test("parseDsse() refuses a statement with zero signatures", () => {
  throwsCode(() => parseDsse(doc(wrapper({ signatures: [] })), 4096), "parse_error");
});

Deno.test("parseDsse() accepts 16 signatures and refuses 17", () => {
  assert.equal(MAX_SIGNATURES, 16);
  const sigs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ keyid: `k${i}`, sig: SIG_B64 }));
  assert.equal(parseDsse(doc(wrapper({ signatures: sigs(16) })), 1 << 16).signatures.length, 16);
  throwsCode(() => parseDsse(doc(wrapper({ signatures: sigs(17) })), 1 << 16), "parse_error");
});

Deno.test("parseDsse() refuses a duplicated payload field (two parsers, two payloads)", () => {
  const text = `{"payloadType":"t","payload":"aGk=","payload":"${PAYLOAD_B64}","signatures":[]}`;
  throwsCode(() => parseDsse(new TextEncoder().encode(text), 4096), "duplicate_key");
});

Deno.test("parseDsse() refuses a document over the size cap before parsing it", () => {
  const bytes = doc(wrapper());
  parseDsse(bytes, bytes.byteLength);
  throwsCode(() => parseDsse(bytes, bytes.byteLength - 1), "size_exceeded");
});

Deno.test("parseDsse() refuses wrong types in the wrapper", () => {
  for (
    const w of [
      wrapper({ payloadType: 1 }),
      wrapper({ payload: null }),
      wrapper({ signatures: {} }),
      wrapper({ signatures: [{ keyid: 1, sig: SIG_B64 }] }),
      wrapper({ signatures: ["x"] }),
    ]
  ) {
    throwsCode(() => parseDsse(doc(w), 4096), "parse_error");
  }
});
