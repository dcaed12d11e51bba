/**
 * Attack 4: impersonation. An agent that signs with its own key but claims to be
 * another (planner posing as intake), a sender no directory lists (with a key of
 * its own), and a sender whose key was revoked (a scratch pipeline whose key
 * directory, re-signed by the dispatcher, no longer lists intake's key). Each
 * must be refused by sanitization before its payload is trusted: `bad_signature`
 * (the key does not belong to the claimed identity), `unknown_sender`,
 * `revoked_key`.
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../../primitives/crypto/ed25519.ts";
import { parseDsse } from "../../../primitives/dsse/parse.ts";
import { parsePayload } from "../../../primitives/dsse/verify.ts";
import { decodeDirectoryPayload } from "../../../domain/trust/directory_payload.ts";
import { signDirectory } from "../../../domain/trust/directory.ts";
import { directoryFile, writeDirectoryFile } from "../../../domain/trust/files.ts";
import { craftEnvelope } from "../../dev/craft_envelope.ts";
import { templateRefFromVault } from "../../dev/template_ref.ts";
import { injectFile } from "../../dev/inject.ts";
import { agentSigningKey } from "../../dev/signer.ts";
import type { AttackContext } from "../context.ts";
import { articlePayload, drop, signedEnvelope } from "../craft.ts";
import { awaitVerdicts } from "../expect.ts";
import { rejectedInOrder, runInOrder } from "../tries.ts";
import { codeOf, type ScratchHome, withScratch } from "../scratch.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "impersonation";

async function revokeIntake(scratch: ScratchHome): Promise<void> {
  const path = directoryFile(scratch.home.trust);
  const bytes = await Deno.readFile(path);
  const current = decodeDirectoryPayload(
    parsePayload(parseDsse(bytes, 1024 * 1024), 1024 * 1024),
    "$",
  );
  // what `saoe keys revoke intake` does: a new directory version without intake's key
  const next = decodeDirectoryPayload({
    ...current,
    version: current.version + 1,
    agents: current.agents.map((a) => a.agent === "intake" ? { ...a, keys: [] } : a),
  }, "$");
  await writeDirectoryFile(
    scratch.home.trust,
    await signDirectory({ payload: next, signers: await scratch.dispatchers() }),
  );
}

async function revoked(ctx: AttackContext): Promise<AttackLine> {
  const tried = "a sender whose key the dispatcher revoked (directory re-signed without it)";
  return await withScratch({
    repo: ctx.repo,
    agents: ["sanitization"],
    prepare: revokeIntake,
    log: ctx.log,
  }, async (start) => {
    if (!start.started) {
      return {
        attack: NAME,
        verdict: "BREACH",
        tried,
        where: `the scratch pipeline did not start (${
          codeOf(start.error)
        }), so it could not be judged`,
        code: "revoked_key",
      };
    }
    const { scratch, probe } = start.run;
    const envelopeId = crypto.randomUUID();
    const crafted = await craftEnvelope({
      from: "intake",
      to: "sanitization",
      template: await templateRefFromVault(scratch.home.vault, "blog_article_intent"),
      payload: articlePayload("revoked"),
      signer: await agentSigningKey(scratch.home, "intake"),
      envelopeId,
    });
    const since = await probe.mark();
    await injectFile({
      home: scratch.home,
      receiver: "sanitization",
      sender: "intake",
      bytes: crafted.bytes,
      entryId: envelopeId,
    });
    const [line] = await awaitVerdicts(
      [rejectedInOrder({ tried, agent: "sanitization", code: "revoked_key", envelopeId, step: 3 })],
      { probe, since, timeoutMs: ctx.timeoutMs },
    );
    return { ...line!, attack: NAME };
  });
}

/** Attack 4. */
export const impersonation: Attack = {
  name: NAME,
  number: 4,
  summary:
    "claims another agent's id with its own key, sends as an unknown agent, and sends with a revoked key: refused as bad_signature, unknown_sender, revoked_key",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const base = { from: "intake", to: "sanitization", template: "blog_article_intent" };
    const posing = await signedEnvelope(ctx, {
      ...base,
      payload: articlePayload("posing"),
      signAs: "planner",
    });
    const unknown = await signedEnvelope(ctx, {
      ...base,
      from: "mallory",
      payload: articlePayload("unknown"),
      signer: await SigningKey.fromSeed(generateSeed()),
    });
    const lines = await runInOrder(ctx, NAME, [
      {
        act: () => drop(ctx, "sanitization", "intake", posing.bytes),
        expect: rejectedInOrder({
          tried: "planner signs with its own key and claims to be intake",
          agent: "sanitization",
          code: "bad_signature",
          envelopeId: posing.envelopeId,
          step: 4,
        }),
      },
      {
        act: () => drop(ctx, "sanitization", "intake", unknown.bytes),
        expect: rejectedInOrder({
          tried: 'an agent no directory lists ("mallory") with a key of its own',
          agent: "sanitization",
          code: "unknown_sender",
          envelopeId: unknown.envelopeId,
          step: 3,
        }),
      },
    ]);
    return [...lines, await revoked(ctx)];
  },
};
