import assert from "node:assert/strict";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { BUILTIN_TOOLS } from "../../../core/domain/toolgate/builtin_tools.ts";
import {
  describeTool,
  signToolManifest,
  verifyToolManifest,
} from "../../../core/domain/toolgate/manifest.ts";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { clock, expectCode, NOW, REPO_ROOT } from "./_fixtures.ts";

async function setup() {
  const dispatcher = await SigningKey.fromSeed(generateSeed());
  const tools = [];
  for (const tool of BUILTIN_TOOLS) tools.push(await describeTool(REPO_ROOT, tool));
  const dispatcherKeys = { name: "dispatcher", keys: [dispatcher], threshold: 1 };
  return { dispatcher, tools, dispatcherKeys };
}

Deno.test("describeTool() records the SHA-256 of the module file's exact bytes", async () => {
  const { tools } = await setup();
  const bytes = await Deno.readFile(`${REPO_ROOT}/core/domain/toolgate/tools/image_sanitize.ts`);
  assert.equal(tools[1]!.sha256, await sha256Hex(bytes));
  assert.equal(tools[1]!.module, "core/domain/toolgate/tools/image_sanitize.ts");
});

Deno.test("verifyToolManifest() accepts a dispatcher-signed manifest", async () => {
  const { dispatcher, tools, dispatcherKeys } = await setup();
  const bytes = await signToolManifest({
    version: 3,
    tools,
    signers: [dispatcher],
    issuedAt: NOW,
    validForMs: 60_000,
  });
  const manifest = await verifyToolManifest(bytes, {
    dispatcher: dispatcherKeys,
    clock,
    skewMs: 0,
  });
  assert.equal(manifest.version, 3);
  assert.deepEqual(manifest.tools.map((t) => t.name), ["markdown_to_html", "image_sanitize"]);
});

Deno.test("verifyToolManifest() refuses a manifest signed by another key", async () => {
  const { tools, dispatcherKeys } = await setup();
  const other = await SigningKey.fromSeed(generateSeed());
  const bytes = await signToolManifest({
    version: 1,
    tools,
    signers: [other],
    issuedAt: NOW,
    validForMs: 60_000,
  });
  await expectCode(
    verifyToolManifest(bytes, { dispatcher: dispatcherKeys, clock, skewMs: 0 }),
    "dispatcher_signature",
  );
});

Deno.test("verifyToolManifest() refuses an expired manifest", async () => {
  const { dispatcher, tools, dispatcherKeys } = await setup();
  const bytes = await signToolManifest({
    version: 1,
    tools,
    signers: [dispatcher],
    issuedAt: NOW - 120_000,
    validForMs: 60_000,
  });
  await expectCode(
    verifyToolManifest(bytes, { dispatcher: dispatcherKeys, clock, skewMs: 0 }),
    "expired",
  );
});

Deno.test("verifyToolManifest() refuses module paths that leave the repository and duplicate tools", async () => {
  const { dispatcher, tools, dispatcherKeys } = await setup();
  const payload = (list: unknown[]) => ({
    version: 1,
    issued_at: new Date(NOW).toISOString(),
    expires_at: new Date(NOW + 60_000).toISOString(),
    tools: list,
  });
  const sign = (list: unknown[]) =>
    signStatement({
      payloadType: PAYLOAD_TYPES.toolManifest,
      payload: payload(list),
      signers: [dispatcher],
    });
  const options = { dispatcher: dispatcherKeys, clock, skewMs: 0 };
  for (
    const module of ["../etc/passwd.ts", "/etc/x.ts", "core/../x.ts", "https://x.example/a.ts"]
  ) {
    await expectCode(
      verifyToolManifest(await sign([{ ...tools[0]!, module }]), options),
      "bad_identifier",
    );
  }
  await expectCode(verifyToolManifest(await sign([tools[0]!, tools[0]!]), options), "parse_error");
  await expectCode(
    verifyToolManifest(await sign([{ ...tools[0]!, extra: true }]), options),
    "parse_error",
  );
  // a plan is not a manifest, even when signed by the dispatcher
  const wrongType = await signStatement({
    payloadType: PAYLOAD_TYPES.plan,
    payload: payload([tools[0]!]),
    signers: [dispatcher],
  });
  await expectCode(verifyToolManifest(wrongType, options), "wrong_payload_type");
});
