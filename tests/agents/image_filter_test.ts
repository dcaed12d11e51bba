/**
 * image_filter as a real process: it reads the staged upload only if it is a
 * regular, singly linked file whose bytes hash to the signed digest, runs
 * `image_sanitize` through ToolGate under the planner's plan, writes the result
 * content-addressed to `media/<session>/` and tells deployment.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { sessionDir } from "../../core/domain/home/layout.ts";
import {
  createTestHome,
  deadLetters,
  explained,
  inject,
  type RunningAgent,
  startAgent,
  type TestHome,
  testPlan,
  waitForEnvelope,
} from "./_harness.ts";

const OPTS = { sanitizeOps: false, sanitizeResources: false };
const SANITIZE = [{ id: "c1", tool: "image_sanitize", args: { format: "jpeg", resize_max: 1600 } }];

function makeJpeg(width: number, height: number): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = (i / 4) % 256;
    data[i + 1] = 128;
    data[i + 2] = 64;
    data[i + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width, height, data }, 80).data);
}

async function withFilter(fn: (th: TestHome, agent: RunningAgent) => Promise<void>) {
  const th = await createTestHome();
  const agent = await startAgent(th, "image_filter");
  try {
    await explained([agent], () => fn(th, agent));
  } finally {
    await agent.stop();
    await th.dispose();
  }
}

/** Stages bytes as intake would: uploads/<session>/<sha256>.jpg. */
async function stage(th: TestHome, session: string, bytes: Uint8Array<ArrayBuffer>) {
  const sha = await sha256Hex(bytes);
  const folder = sessionDir(th.home, "uploads", session);
  await Deno.mkdir(folder, { recursive: true });
  const file = `${sha}.jpg`;
  await Deno.writeFile(join(folder, file), bytes);
  return { file, sha, path: join(folder, file) };
}

async function sendPlan(
  th: TestHome,
  session: string,
  payload: { upload_file: string; sha256: string },
) {
  const envelopeId = crypto.randomUUID();
  const plan = await testPlan(th, { session, envelopeId, calls: SANITIZE });
  return await inject(th, {
    from: "planner",
    to: "image_filter",
    template: "image_filter_plan",
    payload: { ...payload, media_type: "image/jpeg", index: 0, plan },
    sessionId: session,
    envelopeId,
  });
}

async function mediaFiles(th: TestHome, session: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(sessionDir(th.home, "media", session))))
      .map((e) => e.name).filter((n) => !n.startsWith("."));
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

async function expectRefused(
  th: TestHome,
  agent: RunningAgent,
  sent: { envelope_id: string },
  pattern: RegExp,
) {
  const failed = await agent.waitForEvent((e) =>
    e.type === "handler_error" && e.envelope_id === sent.envelope_id
  );
  assert.match(String(failed.detail?.message), pattern);
  const dead = await deadLetters(th, "image_filter");
  assert.ok(dead.some((d) => d.reason?.ids.envelope_id === sent.envelope_id));
  assert.ok(
    !agent.events.some((e) => e.type === "tool_executed" && e.envelope_id === sent.envelope_id),
  );
}

Deno.test(
  "image_filter writes media/<session>/<sha256>.jpg whose bytes hash to its name",
  OPTS,
  async () => {
    await withFilter(async (th, agent) => {
      const session = crypto.randomUUID();
      const upload = await stage(th, session, makeJpeg(64, 48));
      const sent = await sendPlan(th, session, { upload_file: upload.file, sha256: upload.sha });
      const out = await waitForEnvelope(th, "deployment", "image_filter");
      assert.equal(out.session_id, session);
      assert.equal(out.template.id, "sanitized_image");
      const p = out.payload as {
        file: string;
        sha256: string;
        media_type: string;
        width: number;
        height: number;
        index: number;
      };
      assert.equal(p.media_type, "image/jpeg");
      assert.equal(p.file, `${p.sha256}.jpg`);
      assert.deepEqual([p.width, p.height, p.index], [64, 48, 0]);
      const written = await Deno.readFile(join(sessionDir(th.home, "media", session), p.file));
      assert.equal(await sha256Hex(written), p.sha256);
      assert.deepEqual(await mediaFiles(th, session), [p.file]);
      const executed = await agent.waitForEvent((e) => e.type === "tool_executed");
      assert.equal(executed.envelope_id, sent.envelope_id);
    });
  },
);

Deno.test(
  "image_filter refuses an upload whose SHA-256 differs from the envelope's, then serves the next one",
  OPTS,
  async () => {
    await withFilter(async (th, agent) => {
      const session = crypto.randomUUID();
      const upload = await stage(th, session, makeJpeg(16, 16));
      const bad = await sendPlan(th, session, {
        upload_file: upload.file,
        sha256: "00".repeat(32),
      });
      await expectRefused(th, agent, bad, /do not hash to the SHA-256/);
      assert.deepEqual(await mediaFiles(th, session), []);

      const good = await sendPlan(th, session, { upload_file: upload.file, sha256: upload.sha });
      await agent.waitForEvent((e) =>
        e.type === "tool_executed" && e.envelope_id === good.envelope_id
      );
      await waitForEnvelope(th, "deployment", "image_filter");
    });
  },
);

Deno.test(
  "image_filter refuses a symlink and a hard link planted in uploads/<session>/",
  OPTS,
  async () => {
    await withFilter(async (th, agent) => {
      // a symlink to a file outside the uploads folder
      const session = crypto.randomUUID();
      const bytes = makeJpeg(8, 8);
      const sha = await sha256Hex(bytes);
      const outside = join(th.tmp, "outside.jpg");
      await Deno.writeFile(outside, bytes);
      const folder = sessionDir(th.home, "uploads", session);
      await Deno.mkdir(folder, { recursive: true });
      await Deno.symlink(outside, join(folder, `${sha}.jpg`));
      const viaSymlink = await sendPlan(th, session, { upload_file: `${sha}.jpg`, sha256: sha });
      await expectRefused(th, agent, viaSymlink, /symlink/);

      // a hard link: the same bytes are reachable from elsewhere
      const linked = crypto.randomUUID();
      const upload = await stage(th, linked, makeJpeg(8, 9));
      await Deno.link(upload.path, join(th.tmp, "second-name.jpg"));
      const viaHardLink = await sendPlan(th, linked, {
        upload_file: upload.file,
        sha256: upload.sha,
      });
      await expectRefused(th, agent, viaHardLink, /2 links/);
      assert.deepEqual(await mediaFiles(th, session), []);
      assert.deepEqual(await mediaFiles(th, linked), []);
    });
  },
);
