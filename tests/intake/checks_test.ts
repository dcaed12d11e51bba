import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { checkImage } from "../../core/services/intake/image_check.ts";
import { authenticate } from "../../core/services/intake/auth.ts";
import { IntakeRefusal } from "../../core/services/intake/refusal.ts";
import { parseSubmission } from "../../core/services/intake/submission.ts";
import { hashOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { pngHeader } from "./_fixtures.ts";

function realJpeg(width: number, height: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(width * height * 4).fill(128);
  return new Uint8Array(jpeg.encode({ data, width, height }, 80).data);
}

function refusal(fn: () => unknown): IntakeRefusal {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof IntakeRefusal) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

async function refusalOf(promise: Promise<unknown>): Promise<IntakeRefusal> {
  try {
    await promise;
  } catch (err: unknown) {
    if (err instanceof IntakeRefusal) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

Deno.test("checkImage() accepts a real JPEG by its magic bytes and reads its header size", () => {
  assert.deepEqual(checkImage(realJpeg(12, 7), 0), {
    ext: "jpg",
    mediaType: "image/jpeg",
    width: 12,
    height: 7,
  });
});

Deno.test("checkImage() refuses a JPEG whose header declares more than 40 megapixels", () => {
  const bytes = realJpeg(8, 8);
  // patch the SOF0 frame header: height then width, big-endian, 5 bytes after the marker
  const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  new DataView(bytes.buffer).setUint16(sof + 5, 8000);
  new DataView(bytes.buffer).setUint16(sof + 7, 6000);
  const r = refusal(() => checkImage(bytes, 1));
  assert.deepEqual([r.status, r.reason], [413, "size_exceeded"]);
  assert.match(r.message, /Image 2 declares 6000x8000/);
});

Deno.test("checkImage() refuses truncated and mislabelled images", () => {
  const truncated = pngHeader(10, 10).subarray(0, 12);
  assert.equal(refusal(() => checkImage(truncated, 0)).reason, "unsupported_media");
  const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>');
  assert.equal(refusal(() => checkImage(svg, 0)).status, 415);
  assert.equal(refusal(() => checkImage(pngHeader(0, 10), 0)).status, 415);
});

Deno.test("authenticate() tells a missing header (401) from an unknown credential (403)", async () => {
  const token = `saoe_ops_${"x".repeat(43)}`;
  const tokens = [{ id: "ops", sha256: await hashOperatorToken(token), kind: "person" as const }];
  assert.equal((await authenticate(`Bearer ${token}`, tokens)).id, "ops");
  for (
    const header of [null, "", "Bearer", `bearer ${token}`, `Basic ${token}`, `Bearer  ${token}`]
  ) {
    assert.equal((await refusalOf(authenticate(header, tokens))).status, 401, String(header));
  }
  assert.equal((await refusalOf(authenticate(`Bearer ${"y".repeat(300)}`, tokens))).status, 401);
  const wrong = await refusalOf(authenticate(`Bearer ${token}x`, tokens));
  assert.deepEqual([wrong.status, wrong.reason], [403, "bad_credential"]);
  assert.ok(!wrong.message.includes(token));
});

Deno.test("parseSubmission() refuses lone surrogates, file titles and repeated fields", async () => {
  const lone = new TextEncoder().encode('{"title":"\\ud800","markdown":""}');
  assert.equal((await refusalOf(parseSubmission(lone, "application/json"))).reason, "parse_error");
  const form = new FormData();
  form.append("title", new Blob(["x"]), "title.txt");
  form.append("markdown", "y");
  const r1 = new Request("http://x/", { method: "POST", body: form });
  const body1 = new Uint8Array(await r1.arrayBuffer());
  assert.equal(
    (await refusalOf(parseSubmission(body1, r1.headers.get("content-type")))).reason,
    "schema",
  );
  const twice = new FormData();
  twice.append("title", "a");
  twice.append("title", "b");
  twice.append("markdown", "y");
  const r2 = new Request("http://x/", { method: "POST", body: twice });
  const body2 = new Uint8Array(await r2.arrayBuffer());
  assert.equal(
    (await refusalOf(parseSubmission(body2, r2.headers.get("content-type")))).status,
    400,
  );
});
