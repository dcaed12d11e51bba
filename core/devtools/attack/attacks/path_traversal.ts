/**
 * Attack 7: path traversal and planted links. Signed envelopes whose
 * `session_id`, template id or image file name is `../`, an absolute path, or a
 * valid-looking value with a NUL or a trailing newline (every id is matched
 * against a strict pattern before any use in a path: `bad_identifier` at
 * validation step 5, or the template's schema at step 11 for the image name);
 * then links an attacker with write access to a folder could plant: a symlink
 * and a hard link in sanitization's inbox pointing at a valid envelope (the
 * inbox refuses anything but a regular single-link file: `unsafe_path`), and a
 * symlink and a hard link in `uploads/<session>/` pointing at a real image that
 * a valid plan asks image_filter to sanitise (refused before reading: a
 * `handler_error` with `unsafe_path`, and no tool runs).
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../../primitives/crypto/bytes.ts";
import type { JsonObject } from "../../../primitives/json/strict_parse.ts";
import { inboxFromDir, sessionDir } from "../../../domain/home/layout.ts";
import { imageSanitizeCalls } from "../../../services/deployment/plans.ts";
import type { AttackContext } from "../context.ts";
import { articlePayload, drop, planText, signedEnvelope } from "../craft.ts";
import { type Expectation, rejectedEnvelope } from "../expect.ts";
import { solidPng } from "../png.ts";
import { runBatch, runInOrder, type Try } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "path-traversal";

/** `valid` made hostile four ways; `up` is the `../` form. */
function variants(valid: string, up = "../../keys/master.key"): { label: string; value: string }[] {
  return [
    { label: "../", value: up },
    { label: "an absolute path", value: "/etc/passwd" },
    { label: "a NUL byte", value: `${valid}\u0000` },
    { label: "a trailing newline", value: `${valid}\n` },
  ];
}

async function identifierTries(ctx: AttackContext): Promise<Try[]> {
  const out: Try[] = [];
  const add = async (
    tried: string,
    code: string,
    step: number,
    build: () => Promise<{ envelopeId: string; bytes: Uint8Array }>,
  ) => {
    const env = await build();
    out.push({
      act: () => drop(ctx, "sanitization", "intake", env.bytes, env.envelopeId),
      expect: rejectedEnvelope({
        tried,
        agent: "sanitization",
        envelopeId: env.envelopeId,
        code,
        step,
      }),
    });
  };
  const base = { from: "intake", to: "sanitization" };
  for (const v of variants(crypto.randomUUID())) {
    await add(`session_id with ${v.label}`, "bad_identifier", 5, () =>
      signedEnvelope(ctx, {
        ...base,
        template: "blog_article_intent",
        payload: articlePayload("traversal"),
        set: [{ path: "session_id", value: v.value }],
      }));
  }
  for (const v of variants("blog_article_intent", "../capsets/planner")) {
    await add(`template id with ${v.label}`, "bad_identifier", 5, () =>
      signedEnvelope(ctx, {
        ...base,
        template: "blog_article_intent",
        payload: articlePayload("traversal"),
        set: [{ path: "template.id", value: v.value }],
      }));
  }
  const digest = "0".repeat(64);
  for (const v of variants(`${digest}.png`)) {
    await add(`image file name with ${v.label}`, "schema", 11, () =>
      signedEnvelope(ctx, {
        ...base,
        template: "image_process_intent",
        payload: { upload_file: v.value, sha256: digest, media_type: "image/png", index: 0 },
      }));
  }
  return out;
}

function unsafeEntry(tried: string, envelopeId: string, name: string): Expectation {
  return {
    tried,
    code: "unsafe_path",
    subject: (e) =>
      e.agent === "sanitization" &&
      (e.envelope_id === envelopeId ||
        (e.type === "rejected" && String(e.detail?.message ?? "").includes(name))),
    refusal: (e) => e.type === "rejected" && e.reason === "unsafe_path",
    where: () => "sanitization, inbox entry check (lstat: a regular file with one link)",
  };
}

async function inboxLinkTries(ctx: AttackContext, outside: string): Promise<Try[]> {
  const folder = inboxFromDir(ctx.home, "sanitization", "intake");
  const link = async (kind: "symlink" | "hard link"): Promise<Try> => {
    const env = await signedEnvelope(ctx, {
      from: "intake",
      to: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload(`planted ${kind}`),
    });
    const name = `${crypto.randomUUID()}.satl`;
    return {
      async act() {
        if (kind === "symlink") {
          const target = join(outside, `${env.envelopeId}.satl`);
          await Deno.writeFile(target, env.bytes);
          // made under a hidden name, then renamed in: Deno.watchFs reports no event for
          // symlink() itself (only the periodic reconciliation scan would find it), while a
          // rename is seen at once, as a sender's temp + rename is
          const temp = join(folder, `.attack-link-${env.envelopeId}`);
          await Deno.symlink(target, temp);
          await Deno.rename(temp, join(folder, name));
        } else {
          // a second name for the same inode, on the same file system: a hidden name in the
          // folder itself (readers skip hidden names), kept until the attack ends
          const original = join(folder, `.attack-${env.envelopeId}`);
          await Deno.writeFile(original, env.bytes);
          await Deno.link(original, join(folder, name));
        }
      },
      expect: unsafeEntry(
        `a ${kind} planted in sanitization's inbox, pointing at a valid envelope`,
        env.envelopeId,
        name,
      ),
    };
  };
  return [await link("symlink"), await link("hard link")];
}

async function uploadLinkTries(
  ctx: AttackContext,
  outside: string,
  sessions: string[],
): Promise<Try[]> {
  const image = await solidPng(8, 8);
  const digest = await sha256Hex(image);
  const file = `${digest}.png`;
  const link = async (kind: "symlink" | "hard link"): Promise<Try> => {
    const session = crypto.randomUUID();
    sessions.push(session);
    const envelopeId = crypto.randomUUID();
    const plan = await planText(ctx, {
      session,
      envelopeId,
      calls: imageSanitizeCalls("image/png"),
    });
    const payload: JsonObject = {
      upload_file: file,
      sha256: digest,
      media_type: "image/png",
      index: 0,
      plan: plan.text,
    };
    const env = await signedEnvelope(ctx, {
      from: "planner",
      to: "image_filter",
      template: "image_filter_plan",
      payload,
      sessionId: session,
      envelopeId,
    });
    return {
      async act() {
        const dir = sessionDir(ctx.home, "uploads", session);
        await Deno.mkdir(dir, { recursive: true });
        if (kind === "symlink") {
          const target = join(outside, `${session}.png`);
          await Deno.writeFile(target, image);
          await Deno.symlink(target, join(dir, file));
        } else {
          const original = join(ctx.home.uploads, `.attack-${session}.png`);
          await Deno.writeFile(original, image);
          await Deno.link(original, join(dir, file));
        }
        await drop(ctx, "image_filter", "planner", env.bytes, envelopeId);
      },
      expect: {
        tried: `a ${kind} planted in uploads/<session>/ as the image a valid plan names`,
        code: "unsafe_path",
        subject: (e) => e.agent === "image_filter" && e.envelope_id === envelopeId,
        refusal: (e) => e.type === "handler_error" && e.detail?.code === "unsafe_path",
        breach: (e) => e.type === "tool_executed",
        where: () => "image_filter, upload read (lstat: a regular file with one link)",
      },
    };
  };
  return [await link("symlink"), await link("hard link")];
}

/** Removes what the attack planted: hidden originals of hard links, upload session folders. */
async function clean(ctx: AttackContext, sessions: readonly string[]): Promise<void> {
  for (const folder of [ctx.home.uploads, inboxFromDir(ctx.home, "sanitization", "intake")]) {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.name.startsWith(".attack-")) {
        await Deno.remove(join(folder, entry.name)).catch(() => {});
      }
    }
  }
  for (const session of sessions) {
    await Deno.remove(sessionDir(ctx.home, "uploads", session), { recursive: true }).catch(
      () => {},
    );
  }
}

/** Attack 7. */
export const pathTraversal: Attack = {
  name: NAME,
  number: 7,
  summary:
    "puts ../, absolute paths, NUL and trailing newlines into session_id, template id and image names, and plants symlinks and hard links in an inbox and in uploads/: each refused before any path is used",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const outside = await Deno.makeTempDir({ prefix: "saoe-attack-outside-" });
    const sessions: string[] = [];
    try {
      return [
        ...await runBatch(ctx, NAME, await identifierTries(ctx)),
        ...await runInOrder(ctx, NAME, await inboxLinkTries(ctx, outside)),
        ...await runBatch(ctx, NAME, await uploadLinkTries(ctx, outside, sessions)),
      ];
    } finally {
      await clean(ctx, sessions);
      await Deno.remove(outside, { recursive: true }).catch(() => {});
    }
  },
};
