/**
 * Helpers for key ceremony tests on a running pipeline: an envelope signed with
 * a given (e.g. retired) seed dropped into an inbox the way its sender would.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";
import { REPO, type TestHome } from "./_harness.ts";

/** Options for {@linkcode injectSignedWith}. */
export interface InjectSignedOptions {
  seed: Uint8Array;
  sender: string;
  receiver: string;
  template: string;
  payload: JsonObject;
}

/** Signs an envelope with `seed` and drops it into `receiver`'s inbox from `sender`. */
export async function injectSignedWith(
  t: TestHome,
  options: InjectSignedOptions,
): Promise<{ envelope_id: string; session_id: string }> {
  const templateBytes = await Deno.readFile(
    join(REPO, "vault", "templates", `${options.template}.json`),
  );
  const version = JSON.parse(new TextDecoder().decode(templateBytes)).version as number;
  const signer = await SigningKey.fromSeed(options.seed);
  const fields = createEnvelope({
    sender: options.sender,
    receiver: options.receiver,
    template: { id: options.template, version, sha256: await sha256Hex(templateBytes) },
    payload: options.payload,
    human_readable: "injected by a key ceremony test",
  });
  const folder = inboxFromDir(t.home, options.receiver, options.sender);
  await Deno.mkdir(folder, { recursive: true });
  const temp = join(folder, `.tmp-${crypto.randomUUID()}`);
  await Deno.writeFile(temp, await signEnvelope({ fields, signer }));
  await Deno.rename(temp, join(folder, `${fields.envelope_id}.satl`));
  return { envelope_id: fields.envelope_id, session_id: fields.session_id };
}
