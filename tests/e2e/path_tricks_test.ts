/**
 * Path tricks against a running pipeline: validly signed envelopes whose session
 * id or image file name tries to leave its folder (`../`, an absolute path, NUL,
 * a trailing newline) are dropped into real inboxes. Each must be refused and
 * audited, and no file anywhere in the home may appear or change outside the
 * places an agent legitimately writes while refusing (its inbox, quarantine and
 * dead-letter folders, its store, and the audit folder).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  waitFor,
} from "../supervisor/_harness.ts";
import { plant, signedEnvelope } from "./_e2e.ts";

const HOSTILE = [
  "../../escaped",
  "/tmp/escaped",
  "a\u0000b",
  "0190f3a2-7b1c-7def-8a12-3456789abcde\n",
];

type Crafted = Awaited<ReturnType<typeof signedEnvelope>>;

/** Every file under `root` with its size and modification time. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      const info = await Deno.lstat(path);
      if (info.isDirectory) await walk(path);
      else out.set(relative(root, path), `${info.size}:${info.mtime?.getTime()}`);
    }
  };
  await walk(root);
  return out;
}

/** Where an agent writes while it refuses an envelope. */
function expectedChange(path: string): boolean {
  return /^(queues|agents)\//.test(path) || path.startsWith("audit/");
}

Deno.test({
  name:
    "validly signed envelopes with ../, absolute, NUL and newline session ids or image names touch nothing outside their folders",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    await using _running = await startTestSupervisor(t);
    const envelopes: { folder: string; envelope: Crafted; what: string }[] = [];
    for (const session of HOSTILE) {
      envelopes.push({
        what: `session id ${JSON.stringify(session)} at sanitization`,
        folder: inboxFromDir(t.home, "sanitization", "intake"),
        envelope: await signedEnvelope(t, {
          sender: "intake",
          receiver: "sanitization",
          template: "blog_article_intent",
          payload: articlePayload("path trick"),
          session_id: session,
        }),
      });
    }
    const digest = "a".repeat(64);
    for (const file of ["../../../keys/master.jpg", "/etc/passwd.jpg", `${digest}.jpg\n`]) {
      envelopes.push({
        what: `upload file ${JSON.stringify(file)} at sanitization`,
        folder: inboxFromDir(t.home, "sanitization", "intake"),
        envelope: await signedEnvelope(t, {
          sender: "intake",
          receiver: "sanitization",
          template: "image_process_intent",
          payload: { upload_file: file, sha256: digest, media_type: "image/jpeg", index: 0 },
        }),
      });
      envelopes.push({
        what: `sanitized image ${JSON.stringify(file)} at deployment`,
        folder: inboxFromDir(t.home, "deployment", "image_filter"),
        envelope: await signedEnvelope(t, {
          sender: "image_filter",
          receiver: "deployment",
          template: "sanitized_image",
          payload: {
            file,
            sha256: digest,
            media_type: "image/jpeg",
            width: 10,
            height: 10,
            index: 0,
          },
        }),
      });
    }

    const before = await snapshot(t.root);
    for (const { folder, envelope } of envelopes) {
      await plant(folder, `${envelope.envelope_id}.satl`, envelope.bytes);
    }
    const ids = new Set(envelopes.map((e) => e.envelope.envelope_id));
    const events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      const refused = all.filter((e) => e.type === "rejected" && ids.has(e.envelope_id ?? ""));
      return refused.length === envelopes.length && all;
    }, { what: `${envelopes.length} refusals` }) as AuditEvent[];

    for (const { envelope, what } of envelopes) {
      const mine = events.filter((e) => e.envelope_id === envelope.envelope_id);
      assert.deepEqual(mine.map((e) => e.type), ["rejected"], `${what}: ${JSON.stringify(mine)}`);
      assert.ok(
        ["schema", "bad_identifier", "parse_error"].includes(mine[0]!.reason ?? ""),
        `${what} refused as ${mine[0]!.reason}`,
      );
    }
    assert.ok(!events.some((e) => e.type === "validated" && ids.has(e.envelope_id ?? "")));

    // the home outside the refusing agents' own folders and the ledger is untouched
    const after = await snapshot(t.root);
    const changed = [...after].filter(([path, stamp]) => before.get(path) !== stamp)
      .map(([path]) => path);
    const removed = [...before.keys()].filter((path) => !after.has(path));
    assert.deepEqual(changed.filter((p) => !expectedChange(p)), [], "files changed or appeared");
    assert.deepEqual(removed.filter((p) => !expectedChange(p)), [], "files disappeared");
    for (const escaped of ["/tmp/escaped", join(t.root, "..", "escaped")]) {
      assert.equal(await Deno.lstat(escaped).then(() => true, () => false), false, escaped);
    }
  },
});
