/**
 * Targeted cases next to the random fuzz run, against the real validators of a
 * home made by `initHome`: each signed envelope field changed after signing is
 * `bad_signature`, and hostile identifiers (a path traversal, an absolute path,
 * NUL, a trailing newline) in `session_id`, the template id and the image file
 * names are refused even when the rightful sender signs them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { isSaoeError } from "../../core/primitives/errors.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import type { FuzzTarget } from "../../core/devtools/fuzz/target.ts";
import { homeTargets } from "../../core/devtools/fuzz/targets_home.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const SOURCES = join(REPO, "vault");
const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-fields-" }));
const clock = new FakeClock(Date.now());
const { home } = await initHome({ home: join(tmp, "home"), sources: SOURCES, repo: REPO, clock });
const READ_ONLY: Deno.PermissionOptionsObject = {
  read: true,
  write: false,
  env: false,
  net: false,
  run: false,
};
const enc = new TextEncoder();
const dec = new TextDecoder();

type Fields = Record<string, unknown> & { payload: Record<string, unknown> };

let targets: Promise<Map<string, FuzzTarget>> | undefined;
function target(kind: string): Promise<FuzzTarget> {
  targets ??= homeTargets({ home, sources: SOURCES, clock }).then((all) =>
    new Map(all.map((t) => [t.kind, t]))
  );
  return targets.then((m) => m.get(kind)!);
}

function fieldsOf(seed: Uint8Array): Fields {
  const doc = JSON.parse(dec.decode(seed)) as { payload: string };
  return JSON.parse(dec.decode(Uint8Array.fromBase64(doc.payload))) as Fields;
}

/** The seed's DSSE wrapper with another payload under the old signature. */
function keepSignature(seed: Uint8Array, fields: unknown): Uint8Array {
  const doc = JSON.parse(dec.decode(seed)) as Record<string, unknown>;
  doc.payload = enc.encode(JSON.stringify(fields)).toBase64();
  return enc.encode(JSON.stringify(doc));
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err: unknown) {
    if (isSaoeError(err)) return err.code;
    throw err;
  }
  return "accepted";
}

Deno.test({
  name:
    "a signed envelope with one payload byte, human_readable, session_id or receiver changed is bad_signature",
  permissions: READ_ONLY,
  async fn() {
    const sanitization = await target("envelope_sanitization");
    const seed = sanitization.seeds[0]!;
    assert.equal(await refusal(sanitization.verify(seed)), "accepted");
    const fields = fieldsOf(seed);
    const other = crypto.randomUUID();
    const tampered: Record<string, unknown> = {
      "one payload byte": { ...fields, payload: { ...fields.payload, image_count: 0 } },
      "human_readable": { ...fields, human_readable: "an article with no image" },
      "session_id": { ...fields, session_id: other },
      // sanitization's own validator would say receiver_mismatch first: deployment's checks the signature
      "receiver": { ...fields, receiver: "deployment" },
    };
    const deployment = await target("envelope_deployment");
    for (const [what, changed] of Object.entries(tampered)) {
      const verifier = what === "receiver" ? deployment : sanitization;
      assert.equal(
        await refusal(verifier.verify(keepSignature(seed, changed))),
        "bad_signature",
        what,
      );
    }
  },
});

const HOSTILE_IDS = [
  "../../etc/passwd",
  "/etc/passwd",
  "a\u0000b",
  "x\n",
  '"><img src=x onerror=alert(1)>',
];

Deno.test({
  name:
    "session ids, template ids and image file names with ../, an absolute path, NUL, a newline or markup are refused though validly signed",
  permissions: READ_ONLY,
  async fn() {
    const sanitization = await target("envelope_sanitization");
    const deployment = await target("envelope_deployment");
    const article = fieldsOf(sanitization.seeds[0]!);
    const upload = fieldsOf(sanitization.seeds[1]!);
    const image = fieldsOf(deployment.seeds[1]!);
    const sign = (t: FuzzTarget, fields: unknown) =>
      t.resign(new Uint8Array(enc.encode(JSON.stringify(fields))));
    for (const hostile of HOSTILE_IDS) {
      const sessionId = { ...article, envelope_id: crypto.randomUUID(), session_id: hostile };
      assert.equal(
        await refusal(sanitization.verify(await sign(sanitization, sessionId))),
        "bad_identifier",
        `session_id ${JSON.stringify(hostile)}`,
      );
      const templateId = {
        ...article,
        envelope_id: crypto.randomUUID(),
        template: { ...(article.template as object), id: hostile },
      };
      assert.equal(
        await refusal(sanitization.verify(await sign(sanitization, templateId))),
        "bad_identifier",
        `template id ${JSON.stringify(hostile)}`,
      );
      // image names are checked by the template schema before anything touches uploads/ or media/
      const name = `${hostile}.png`;
      const uploadFile = {
        ...upload,
        envelope_id: crypto.randomUUID(),
        payload: { ...upload.payload, upload_file: name },
      };
      assert.equal(
        await refusal(sanitization.verify(await sign(sanitization, uploadFile))),
        "schema",
        `upload_file ${JSON.stringify(name)}`,
      );
      const mediaFile = {
        ...image,
        envelope_id: crypto.randomUUID(),
        payload: { ...image.payload, file: name },
      };
      assert.equal(
        await refusal(deployment.verify(await sign(deployment, mediaFile))),
        "schema",
        `sanitized image file ${JSON.stringify(name)}`,
      );
    }
  },
});

Deno.test("cleanup of the signed-fields home", async () => {
  await Deno.remove(tmp, { recursive: true });
});
