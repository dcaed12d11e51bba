/**
 * `saoe submit` run as a user runs it (`deno task saoe submit …`, the task's exact
 * flags) against a real intake process; `--wait` follows the session in a ledger
 * that the test fills as the supervisor would, with intake's own signed events.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PNG } from "pngjs";
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import {
  type IntakeProcess,
  listNames,
  queuedEnvelopes,
  runSaoe,
  startIntake,
} from "./_fixtures.ts";

function base(p: IntakeProcess): string[] {
  return ["submit", "--home", p.root, "--url", p.url];
}

/** Runs `saoe submit --wait` while appending intake's events (and `finish`'s) to the ledger. */
async function submitAndWait(
  p: IntakeProcess,
  args: string[],
  finish: (session: string) => Uint8Array[],
) {
  const ledger = await openLedger({ path: ledgerPath(p.home) });
  try {
    let done = false;
    const run = runSaoe([...base(p), ...args]).finally(() => done = true);
    let appended = 0;
    let finished = false;
    while (!done) {
      const fresh = p.rawEvents.slice(appended);
      if (fresh.length > 0) ledger.append(fresh);
      appended += fresh.length;
      const accepted = p.events.find((e) => e.type === "intake_accepted");
      if (accepted !== undefined && !finished) {
        finished = true;
        const more = finish(accepted.session_id!);
        if (more.length > 0) ledger.append(more);
      }
      // paces the copying of events into the ledger; the loop ends when saoe submit exits
      await new Promise((r) => setTimeout(r, 20));
    }
    return await run;
  } finally {
    ledger.close();
  }
}

Deno.test({
  name: "saoe submit sends articles to the running intake and follows them with --wait",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const p = await startIntake();
  const tmp = await Deno.makeTempDir({ prefix: "saoe-submit-" });
  try {
    await t.step("saoe submit --json prints the session and the article path", async () => {
      const out = await runSaoe([...base(p), "--title", "Hello", "--markdown", "# Hi", "--json"]);
      assert.equal(out.code, 0, out.stderr);
      const result = JSON.parse(out.stdout);
      assert.equal(result.ok, true);
      assert.equal(result.image_count, 0);
      assert.equal(result.article, join(p.root, "output", result.session_id, "index.html"));
      assert.equal(result.viewer_path, `/output/${result.session_id}/`);
      const queued = await queuedEnvelopes(p.queue);
      assert.deepEqual(queued.map((e) => [e.template, e.session_id]), [
        ["blog_article_intent", result.session_id],
      ]);
      assert.deepEqual(queued[0]!.payload, { title: "Hello", markdown: "# Hi", image_count: 0 });
    });

    await t.step(
      "saoe submit with --markdown-file and --image sends a multipart submission",
      async () => {
        const png = new PNG({ width: 4, height: 4 });
        png.data.fill(200);
        const bytes = new Uint8Array(PNG.sync.write(png));
        await Deno.writeFile(join(tmp, "photo.png"), bytes);
        await Deno.writeTextFile(join(tmp, "post.md"), "Some *text*.\n");
        const out = await runSaoe([
          ...base(p),
          "--title",
          "With image",
          "--markdown-file",
          join(tmp, "post.md"),
          "--image",
          join(tmp, "photo.png"),
        ]);
        assert.equal(out.code, 0, out.stderr);
        const session = /^session ([0-9a-f-]{36})$/m.exec(out.stdout)?.[1];
        assert.ok(session !== undefined, out.stdout);
        assert.match(out.stdout, new RegExp(`output/${session}/index\\.html`));
        assert.deepEqual(await listNames(join(p.home.uploads, session)), [
          `${await sha256Hex(bytes)}.png`,
        ]);
        const mine = (await queuedEnvelopes(p.queue)).filter((e) => e.session_id === session);
        assert.deepEqual(mine.map((e) => e.template).sort(), [
          "blog_article_intent",
          "image_process_intent",
        ]);
      },
    );

    await t.step("a refused submission exits 1 with intake's reason", async () => {
      await Deno.writeTextFile(join(tmp, "wrong.token"), `saoe_operator_${"B".repeat(43)}\n`);
      const before = await listNames(p.queue);
      const out = await runSaoe([
        ...base(p),
        "--title",
        "x",
        "--markdown",
        "y",
        "--credential-file",
        join(tmp, "wrong.token"),
        "--json",
      ]);
      assert.equal(out.code, 1);
      const result = JSON.parse(out.stdout);
      assert.deepEqual([result.ok, result.status, result.reason], [false, 403, "bad_credential"]);
      const human = await runSaoe([...base(p), "--title", "x".repeat(201), "--markdown", "y"]);
      assert.equal(human.code, 1);
      assert.match(human.stderr, /HTTP 413.*\(payload_too_large\)/);
      assert.deepEqual(await listNames(p.queue), before);
    });

    await t.step("an unreachable intake is reported clearly", async () => {
      const out = await runSaoe([
        "submit",
        "--home",
        p.root,
        "--url",
        // port 1 (tcpmux) is privileged and nothing on a test machine listens there
        "http://127.0.0.1:1",
        "--title",
        "x",
        "--markdown",
        "y",
      ]);
      assert.equal(out.code, 1);
      assert.match(out.stderr, /is `deno task pipeline` running\?/);
    });

    await t.step("missing arguments are a usage error", async () => {
      const out = await runSaoe([...base(p), "--markdown", "y"]);
      assert.equal(out.code, 2);
      const both = await runSaoe([
        ...base(p),
        "--title",
        "t",
        "--markdown",
        "y",
        "--markdown-file",
        "f",
      ]);
      assert.equal(both.code, 2);
    });

    await t.step("--wait prints each stage and exits 0 once the session is published", async () => {
      p.events.length = 0;
      p.rawEvents.length = 0;
      const out = await submitAndWait(
        p,
        ["--title", "Waited", "--markdown", "body", "--wait", "--json", "--timeout", "10"],
        (session) => [
          encodeEvent(
            buildEvent({ type: "validated", agent: "sanitization", session_id: session }),
          ),
          encodeEvent(buildEvent({ type: "published", agent: "deployment", session_id: session })),
        ],
      );
      assert.equal(out.code, 0, out.stderr);
      const result = JSON.parse(out.stdout);
      assert.equal(result.outcome, "published");
      assert.deepEqual(
        result.events.map((e: { type: string; agent: string }) => `${e.agent}:${e.type}`),
        [
          "intake:forwarded",
          "intake:intake_accepted",
          "sanitization:validated",
          "deployment:published",
        ],
      );
    });

    await t.step("--wait exits 1 with the reason when a stage rejects the session", async () => {
      p.events.length = 0;
      p.rawEvents.length = 0;
      const out = await submitAndWait(
        p,
        ["--title", "Rejected", "--markdown", "body", "--wait", "--timeout", "10"],
        (session) => [
          encodeEvent(buildEvent({
            type: "rejected",
            agent: "sanitization",
            session_id: session,
            reason: "schema",
            detail: { message: "payload does not match" },
          })),
        ],
      );
      assert.equal(out.code, 1);
      assert.match(out.stdout, /intake_accepted/);
      assert.match(out.stderr, /failed at sanitization \(rejected\): schema/);
    });

    await t.step("--wait gives up after --timeout", async () => {
      p.events.length = 0;
      p.rawEvents.length = 0;
      const out = await submitAndWait(
        p,
        ["--title", "Slow", "--markdown", "body", "--wait", "--json", "--timeout", "0.5"],
        () => [],
      );
      assert.equal(out.code, 1);
      assert.equal(JSON.parse(out.stdout).outcome, "timeout");
    });
  } finally {
    await p.stop();
    await Deno.remove(tmp, { recursive: true });
  }
});
