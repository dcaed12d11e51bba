/**
 * Helpers for end-to-end tests: a real `saoe pipeline` on a temp home, real
 * `saoe submit` processes, and causal-order checks over the ledger.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import { join } from "node:path";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";
import type { CliPipeline, TestHome } from "../supervisor/_harness.ts";
import { REPO, runSaoe } from "../supervisor/_harness.ts";

/** The intake URL a `saoe pipeline --json` process printed. */
export async function intakeUrl(pipeline: CliPipeline): Promise<string> {
  const line = await pipeline.waitForLine((l) => l.kind === "intake", "the intake line");
  return String(line.url);
}

/** Result of `saoe submit --json`. */
export interface Submitted {
  ok: boolean;
  session_id: string;
  article: string;
  outcome?: string;
  reason?: string;
}

/** Runs `saoe submit … --json` and returns its parsed answer and exit code. */
export async function submit(
  home: string,
  url: string,
  args: string[],
): Promise<{ code: number; result: Submitted; stderr: string }> {
  const out = await runSaoe(["submit", "--home", home, "--url", url, "--json", ...args]);
  let result: Submitted;
  try {
    result = JSON.parse(out.stdout);
  } catch {
    throw new Error(
      `saoe submit printed no JSON (exit ${out.code}):\n${out.stdout}\n${out.stderr}`,
    );
  }
  return { code: out.code, result, stderr: out.stderr };
}

/**
 * Asserts the ledger shows the session in causal order: every `validated`
 * envelope was `forwarded` earlier, `published` comes after every other event of
 * the session and happens exactly once.
 */
export function assertCausalOrder(events: readonly AuditEvent[], session: string): void {
  const mine = events.filter((e) => e.session_id === session);
  assert.ok(mine.length > 0, `no events for session ${session}`);
  const forwarded = new Set<string>();
  for (const e of mine) {
    if (e.type === "forwarded" && e.envelope_id) forwarded.add(e.envelope_id);
    if (e.type === "validated") {
      assert.ok(
        e.envelope_id !== undefined && forwarded.has(e.envelope_id),
        `${e.agent} validated ${e.envelope_id} before anyone forwarded it`,
      );
    }
  }
  const published = mine.filter((e) => e.type === "published");
  assert.equal(published.length, 1, `session ${session} published ${published.length} times`);
  assert.equal(mine.at(-1)?.type, "published", "published is the last event of the session");
  assert.equal(mine[0]?.agent, "intake", "the session starts at intake");
}

/**
 * Signs an envelope with `sender`'s real key and returns its bytes and ids (not
 * delivered). `session_id` overrides the fresh one, unchecked: a hostile id is
 * signed as it is, as a sender with a valid key could.
 */
export async function signedEnvelope(
  t: TestHome,
  options: {
    sender: string;
    receiver: string;
    template: string;
    payload: JsonObject;
    session_id?: string;
    human_readable?: string;
  },
): Promise<{ bytes: Uint8Array<ArrayBuffer>; envelope_id: string; session_id: string }> {
  const templateBytes = await Deno.readFile(
    join(REPO, "vault/templates", `${options.template}.json`),
  );
  const version = JSON.parse(new TextDecoder().decode(templateBytes)).version as number;
  const secrets = await t.keys.loadAgent(options.sender);
  const fields = {
    ...createEnvelope({
      sender: options.sender,
      receiver: options.receiver,
      template: { id: options.template, version, sha256: await sha256Hex(templateBytes) },
      payload: options.payload,
      human_readable: options.human_readable ?? "crafted by a test",
    }),
    ...(options.session_id !== undefined ? { session_id: options.session_id } : {}),
  };
  const bytes = await signEnvelope({ fields, signer: await SigningKey.fromSeed(secrets.seed) });
  return { bytes, envelope_id: fields.envelope_id, session_id: fields.session_id };
}

/** Drops bytes into `folder` as `<name>` the way a sender does (temp file, then rename). */
export async function plant(folder: string, name: string, bytes: Uint8Array): Promise<void> {
  const temp = join(folder, `.tmp-${crypto.randomUUID()}`);
  await Deno.writeFile(temp, bytes);
  await Deno.rename(temp, join(folder, name));
}
