/**
 * Attack 8: the vault and the trust root, on scratch homes (the target's are
 * never touched). Someone with write access to the vault but no dispatcher key:
 * swaps a template's ciphertext for another, validly encrypted to the same
 * agents (a permissive schema: the receiver must notice that the plaintext no
 * longer hashes to the signed manifest, `template_hash_mismatch`); edits a
 * capability set without re-signing it (`capset_signature`); and restores the
 * previous trust root after a rotation (`rollback`). And an expired capability
 * set, correctly signed by the dispatcher (`expired`). The last three are
 * refused when the supervisor starts on the tampered home: nothing runs.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fromBase64, toBase64, utf8 } from "../../../primitives/crypto/bytes.ts";
import { parseDsse } from "../../../primitives/dsse/parse.ts";
import { parsePayload } from "../../../primitives/dsse/verify.ts";
import type { JsonObject } from "../../../primitives/json/strict_parse.ts";
import { parseStrictJson } from "../../../primitives/json/strict_parse.ts";
import { decodeCapsetSource } from "../../../domain/capset/types.ts";
import { signCapset } from "../../../domain/capset/sign.ts";
import { decryptWith, encryptTo } from "../../../domain/vault/age.ts";
import { capsetPath, templateCipherPath } from "../../../domain/vault/layout.ts";
import { writeFileAtomic } from "../../../primitives/fs/atomic_write.ts";
import { SUPERVISOR_ID, supervisorVersionsPath } from "../../../domain/home/layout.ts";
import { decodeDirectoryPayload } from "../../../domain/trust/directory_payload.ts";
import {
  directoryFile,
  loadRootChain,
  rootFile,
  writeRootFile,
} from "../../../domain/trust/files.ts";
import { decodeRootPayload, signRoot } from "../../../domain/trust/root.ts";
import { verifyRootChain } from "../../../domain/trust/chain.ts";
import { FileVersionStore } from "../../../domain/trust/version_store_file.ts";
import { systemClock } from "../../../primitives/time/clock.ts";
import { formatTimestamp } from "../../../primitives/time/timestamp.ts";
import { craftEnvelope } from "../../dev/craft_envelope.ts";
import { templateRefFromVault } from "../../dev/template_ref.ts";
import { injectFile } from "../../dev/inject.ts";
import { agentSigningKey } from "../../dev/signer.ts";
import type { AttackContext } from "../context.ts";
import { awaitVerdicts, rejectedEnvelope } from "../expect.ts";
import { codeOf, type ScratchHome, withScratch } from "../scratch.ts";
import type { Attack, AttackLine } from "../types.ts";
import { DAY_MS } from "../../../primitives/time/durations.ts";

const NAME = "vault";

async function recipientsOf(scratch: ScratchHome, agents: readonly string[]): Promise<string[]> {
  const bytes = await Deno.readFile(directoryFile(scratch.home.trust));
  const directory = decodeDirectoryPayload(
    parsePayload(parseDsse(bytes, 1024 * 1024), 1024 * 1024),
    "$",
  );
  return directory.agents.filter((a) => agents.includes(a.agent)).flatMap((a) =>
    a.keys.map((k) => k.age_recipient)
  );
}

/** The agents a capset is encrypted to (as `init` does): itself, its peers, the supervisor. */
function capsetReaders(source: JsonObject): string[] {
  const receives = (source.receives as { from: string }[]).map((r) => r.from);
  const sends = (source.sends as { to: string }[]).map((s) => s.to);
  return [String(source.agent), SUPERVISOR_ID, ...receives, ...sends];
}

async function repoSource(ctx: AttackContext, kind: string, name: string): Promise<JsonObject> {
  return JSON.parse(await Deno.readTextFile(join(ctx.repo, "vault", kind, `${name}.json`)));
}

async function templateSwapped(ctx: AttackContext): Promise<AttackLine> {
  const tried =
    "sanitized_image's ciphertext swapped for a permissive template validly encrypted to the same agents";
  const permissive = await repoSource(ctx, "templates", "sanitized_image");
  permissive.schema = { type: "object" };
  return await withScratch({
    repo: ctx.repo,
    agents: ["deployment"],
    log: ctx.log,
    async prepare(scratch) {
      const recipients = await recipientsOf(scratch, ["image_filter", "deployment"]);
      await writeFileAtomic(
        templateCipherPath(scratch.home.vault, "sanitized_image", 1),
        await encryptTo(recipients, utf8(JSON.stringify(permissive))),
      );
    },
  }, async (start) => {
    if (!start.started) {
      return {
        attack: NAME,
        verdict: "BLOCKED",
        tried,
        where: "supervisor start (nothing spawned)",
        code: codeOf(start.error),
      };
    }
    const { scratch, probe } = start.run;
    const envelopeId = crypto.randomUUID();
    const crafted = await craftEnvelope({
      from: "image_filter",
      to: "deployment",
      template: await templateRefFromVault(scratch.home.vault, "sanitized_image"),
      // passes only the permissive schema: a path where a file name belongs
      payload: { file: "../../keys/master.key", index: 0 },
      signer: await agentSigningKey(scratch.home, "image_filter"),
      envelopeId,
    });
    const since = await probe.mark();
    await injectFile({
      home: scratch.home,
      receiver: "deployment",
      sender: "image_filter",
      bytes: crafted.bytes,
      entryId: envelopeId,
    });
    const [line] = await awaitVerdicts([
      rejectedEnvelope({
        tried,
        agent: "deployment",
        envelopeId,
        code: "template_hash_mismatch",
        step: 9,
      }),
    ], { probe, since, timeoutMs: ctx.timeoutMs });
    return { ...line!, attack: NAME };
  });
}

/** Starts a scratch supervisor on a home `prepare` tampered with; the refusal is the verdict. */
async function refusedAtStart(
  ctx: AttackContext,
  options: { tried: string; code: string; prepare(scratch: ScratchHome): Promise<void> },
): Promise<AttackLine> {
  return await withScratch({
    repo: ctx.repo,
    agents: ["sanitization"],
    log: ctx.log,
    prepare: options.prepare,
  }, (start) => {
    if (start.started) {
      return Promise.resolve<AttackLine>({
        attack: NAME,
        verdict: "BREACH",
        tried: options.tried,
        where: "the supervisor started the pipeline on the tampered home",
        code: options.code,
      });
    }
    const code = codeOf(start.error);
    return Promise.resolve<AttackLine>({
      attack: NAME,
      verdict: code === options.code ? "BLOCKED" : "BREACH",
      tried: options.tried,
      where: code === options.code
        ? "supervisor start, before anything was spawned"
        : `the supervisor refused to start, but with ${code}, not ${options.code}`,
      code: options.code,
    });
  });
}

async function editCapset(scratch: ScratchHome, ctx: AttackContext): Promise<void> {
  const path = capsetPath(scratch.home.vault, "sanitization");
  const supervisor = await scratch.keys.loadAgent(SUPERVISOR_ID);
  const signed = JSON.parse(
    new TextDecoder().decode(await decryptWith(supervisor.ageIdentity, await Deno.readFile(path))),
  );
  const payload = JSON.parse(new TextDecoder().decode(fromBase64(signed.payload))) as JsonObject;
  // a grant nobody signed: sanitization reads the staged uploads
  (payload.fs as { read: string[] }).read.push("uploads");
  signed.payload = toBase64(utf8(JSON.stringify(payload)));
  const source = await repoSource(ctx, "capsets", "sanitization");
  await writeFileAtomic(
    path,
    await encryptTo(
      await recipientsOf(scratch, capsetReaders(source)),
      utf8(JSON.stringify(signed)),
    ),
  );
}

async function expireCapset(scratch: ScratchHome, ctx: AttackContext): Promise<void> {
  const source = decodeCapsetSource(
    parseStrictJson(
      await Deno.readFile(join(ctx.repo, "vault", "capsets", "sanitization.json")),
      { maxBytes: 1024 * 1024 },
    ),
    "$",
  );
  const signed = await signCapset({
    source,
    signers: await scratch.dispatchers(),
    issuedAt: Date.now() - 3 * DAY_MS,
    validForMs: DAY_MS,
  });
  await writeFileAtomic(
    capsetPath(scratch.home.vault, "sanitization"),
    await encryptTo(
      await recipientsOf(scratch, capsetReaders(source as unknown as JsonObject)),
      signed,
    ),
  );
}

async function rollBackRoot(scratch: ScratchHome): Promise<void> {
  const v1 = decodeRootPayload(
    parsePayload(
      parseDsse(await Deno.readFile(rootFile(scratch.home.trust, 1)), 1024 * 1024),
      1024 * 1024,
    ),
    "$",
  );
  const now = Date.now();
  await writeRootFile(
    scratch.home.trust,
    2,
    await signRoot({
      payload: {
        ...v1,
        version: 2,
        issued_at: formatTimestamp(now),
        expires_at: formatTimestamp(now + 365 * DAY_MS),
      },
      signers: await scratch.dispatchers(),
    }),
  );
  // the supervisor accepts root v2 and records it, as at any start after a rotation
  const versions = supervisorVersionsPath(scratch.home);
  await Deno.mkdir(dirname(versions), { recursive: true, mode: 0o700 });
  await verifyRootChain({
    roots: await loadRootChain(scratch.home.trust),
    pin: scratch.config.root_pin,
    clock: systemClock,
    skewMs: scratch.config.skew_ms,
    versionStore: new FileVersionStore(versions),
  });
  // then root v2 is removed again: the chain ends at v1
  await Deno.remove(rootFile(scratch.home.trust, 2));
}

/** Attack 8. */
export const vault: Attack = {
  name: NAME,
  number: 8,
  summary:
    "swaps a template for another validly encrypted one, edits a capset without re-signing, installs an expired capset and rolls the trust root back: refused by the receiver (template_hash_mismatch) or at supervisor start",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    return [
      await templateSwapped(ctx),
      await refusedAtStart(ctx, {
        tried: "sanitization's capset edited (an extra read grant) without re-signing",
        code: "capset_signature",
        prepare: (s) => editCapset(s, ctx),
      }),
      await refusedAtStart(ctx, {
        tried: "an expired capset, correctly signed by the dispatcher",
        code: "expired",
        prepare: (s) => expireCapset(s, ctx),
      }),
      await refusedAtStart(ctx, {
        tried: "the trust root rolled back from v2 to v1 after the supervisor accepted v2",
        code: "rollback",
        prepare: rollBackRoot,
      }),
    ];
  },
};
