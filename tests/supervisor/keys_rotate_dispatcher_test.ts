/**
 * `saoe keys rotate dispatcher` on a running pipeline: articles keep arriving
 * over the real intake API while the dispatcher keys are rotated; the supervisor
 * picks the new root up by itself (it watches trust/), restarts its agents one
 * at a time and records key_rotated. No session is lost or processed twice, and
 * a statement signed only by the retired key is refused afterwards.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { signStatement } from "../../core/primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { isSaoeError } from "../../core/primitives/errors.ts";
import { writeHomeConfig } from "../../core/domain/home/config.ts";
import { type SubmitAnswer, submitArticle } from "../../core/services/intake/client.ts";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { templateManifestPath } from "../../core/domain/vault/layout.ts";
import { decodeTemplateManifest } from "../../core/domain/vault/template_types.ts";
import { openCeremonyHome } from "../../core/services/ceremony/keys_home.ts";
import { openDispatcherSubstore } from "../../core/services/ceremony/keys_dispatcher_store.ts";
import { rotateDispatcher } from "../../core/services/ceremony/rotate_dispatcher.ts";
import {
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  verifyTestLedger,
  waitFor,
  waitForEvent,
} from "./_harness.ts";

/** Sessions submitted before the rotation starts and after it was applied. */
const BEFORE = 3;
const AFTER = 2;

/**
 * Submits, retrying while intake is being restarted (a refused connection accepted
 * nothing). Intake's port is assigned anew to each process, so the address is
 * asked for again on every attempt.
 */
async function submitRetrying(
  url: () => string | undefined,
  credential: string,
  i: number,
): Promise<SubmitAnswer> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const current = url();
      if (current === undefined) throw new Error("intake is restarting: no address yet");
      return await submitArticle({
        url: current,
        credential,
        title: `Article ${i}`,
        markdown: `Body of article **${i}**.`,
        timeoutMs: 10_000,
      });
    } catch (err: unknown) {
      if (Date.now() > deadline) throw err;
      // paces the retries while intake restarts; the deadline above ends them
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

Deno.test({
  name:
    "rotating the dispatcher keys mid-stream loses and duplicates no session, and the retired key's signature is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome({
      agents: ["sanitization", "planner", "text_formatter", "image_filter", "deployment", "intake"],
    });
    await writeHomeConfig(t.home.config, {
      ...t.config,
      intake: { ...t.config.intake, person_per_minute: 10_000 },
    });
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    assert.deepEqual(supervisor.trustVersions(), { root: 1, directory: 1 });
    const url = () => supervisor.intakeUrl;
    const credential = await readOperatorToken(t.home.keys, "operator");

    const sessions: string[] = [];
    const submit = async () => {
      const answer = await submitRetrying(url, credential, sessions.length);
      assert.ok(answer.ok, `submission ${sessions.length} refused: ${JSON.stringify(answer)}`);
      sessions.push(answer.session_id);
    };
    for (let i = 0; i < BEFORE; i++) await submit();
    // what "saoe keys rotate dispatcher" runs, while the stream continues through the
    // whole rolling restart (intake's own restart included)
    const rotation = rotateDispatcher({ home: t.root, clock: systemClock });
    const applied = () =>
      ledgerEvents(t.home).then((all) => all.some((e) => e.type === "key_rotated"));
    const deadline = Date.now() + 60_000;
    while (!(await applied())) {
      assert.ok(Date.now() < deadline, "the supervisor never applied the rotation");
      await submit();
      // paces the stream of submissions; the loop ends on the rotation's event, not on time
      await new Promise((r) => setTimeout(r, 250));
    }
    for (let i = 0; i < AFTER; i++) await submit();
    const result = await rotation;
    assert.equal(result.state, "committed");
    assert.equal(result.version, 2);
    assert.equal(result.recordedBy, "supervisor");
    assert.ok(sessions.length >= BEFORE + AFTER + 3, `only ${sessions.length} sessions`);

    const rotated = await waitForEvent(
      t.home,
      (e) =>
        e.type === "key_rotated" && e.agent === "supervisor" && e.detail?.kind === "dispatcher",
      "the supervisor to record the dispatcher rotation",
      60_000,
    );
    const event = rotated.find((e) => e.type === "key_rotated" && e.detail?.kind === "dispatcher")!;
    assert.equal(event.detail?.root_version, 2);
    assert.equal(event.detail?.previous_root_version, 1);
    assert.equal((event.detail?.restarted as string[]).length, 6);
    assert.deepEqual(supervisor.trustVersions(), { root: 2, directory: 2 });

    const events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      const published = new Set(all.filter((e) => e.type === "published").map((e) => e.session_id));
      return sessions.every((s) => published.has(s)) && all;
    }, { what: "every session to be published", timeoutMs: 60_000 });
    for (const session of sessions) {
      const count = events.filter((e) => e.type === "published" && e.session_id === session).length;
      assert.equal(count, 1, `session ${session} published ${count} times`);
      const refused = events.filter((e) =>
        e.session_id === session && (e.type === "rejected" || e.type === "handler_error")
      );
      assert.deepEqual(refused, [], `session ${session} had refusals`);
    }
    for (const agent of supervisor.agents()) assert.equal(agent.state, "up", agent.name);

    // a template manifest signed only by the retired key: refused by the new root
    const retired = await openDispatcherSubstore(t.home.keys, "retired", 1);
    const [oldSeed] = await retired.loadDispatchers();
    const oldKey = await SigningKey.fromSeed(oldSeed!);
    const path = templateManifestPath(t.home.vault, "blog_article_intent", 1);
    const ch = await openCeremonyHome({ home: t.root, clock: systemClock });
    const current = await verifyStatement(await Deno.readFile(path), {
      payloadType: PAYLOAD_TYPES.templateManifest,
      trusted: [ch.root.trusted],
      signatureCode: "dispatcher_signature",
      what: "manifest",
      decode: decodeTemplateManifest,
      clock: systemClock,
      skewMs: 0,
      maxBytes: 16 * 1024,
    });
    const forged = await signStatement({
      payloadType: PAYLOAD_TYPES.templateManifest,
      payload: { ...current.payload },
      signers: [oldKey],
    });
    await assert.rejects(
      verifyStatement(forged, {
        payloadType: PAYLOAD_TYPES.templateManifest,
        trusted: [ch.root.trusted],
        signatureCode: "dispatcher_signature",
        what: "manifest",
        decode: decodeTemplateManifest,
        clock: systemClock,
        skewMs: 0,
        maxBytes: 16 * 1024,
      }),
      (err: unknown) => isSaoeError(err, "dispatcher_signature"),
    );
    // planted in the vault, the running supervisor refuses to apply it and keeps going
    await Deno.writeFile(join(path), forged);
    const report = await supervisor.reload();
    assert.equal(report.applied, false);
    assert.equal(report.reason, "refused");
    assert.match(report.error ?? "", /dispatcher_signature|signatures by dispatcher root v2/);
    assert.deepEqual(supervisor.trustVersions(), { root: 2, directory: 2 });

    await supervisor.stop();
    const verified = await verifyTestLedger(t);
    assert.ok(verified.ok, verified.message);
  },
});
