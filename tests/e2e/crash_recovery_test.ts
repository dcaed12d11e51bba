/**
 * Kill -9 in the middle of a stream: 50 articles submitted over the real intake
 * API while two agents are killed with SIGKILL mid-stream. The supervisor must
 * restart them, and every session must be published exactly once (a recovered
 * quarantine entry re-runs its handler; deployment publishes once).
 */
import assert from "node:assert/strict";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { submitArticle } from "../../core/services/intake/client.ts";
import { writeHomeConfig } from "../../core/domain/home/config.ts";
import { sampleJpeg } from "../../scripts/demo/sample_image.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import {
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  subjectOf,
  verifyTestLedger,
  waitFor,
  waitUntilUp,
} from "../supervisor/_harness.ts";

const ARTICLES = 50;

/** What became of the sessions that did not publish: their events, dead letters, inboxes. */
async function diagnose(home: HomeLayout, sessions: string[]): Promise<string> {
  const all = await ledgerEvents(home);
  const published = new Set(all.filter((e) => e.type === "published").map((e) => e.session_id));
  const lines: string[] = [];
  for (const s of sessions.filter((x) => !published.has(x))) {
    lines.push(`session ${s}:`);
    for (const e of all.filter((x) => x.session_id === s)) {
      lines.push(
        `  ${e.agent} ${e.type} ${e.envelope_id ?? ""} ${e.reason ?? ""} ${
          JSON.stringify(e.detail ?? {})
        }`,
      );
    }
  }
  for (const e of all.filter((x) => x.type === "agent_exited" || x.type === "handler_error")) {
    lines.push(`${e.type} ${JSON.stringify(e.detail ?? {})}`);
  }
  for await (const agent of Deno.readDir(home.agents)) {
    for (const sub of ["dead", "quarantine", "retry"]) {
      try {
        for await (const f of Deno.readDir(`${home.agents}/${agent.name}/${sub}`)) {
          lines.push(`${agent.name}/${sub}/${f.name}`);
        }
      } catch { /* absent */ }
    }
  }
  for await (const q of Deno.readDir(home.agents)) {
    if (q.name === "supervisor") continue;
    for await (const s of Deno.readDir(`${home.agents}/${q.name}/inbox`)) {
      for await (const f of Deno.readDir(`${home.agents}/${q.name}/inbox/${s.name}`)) {
        lines.push(`agents/${q.name}/inbox/${s.name}/${f.name}`);
      }
    }
  }
  return lines.join("\n");
}

Deno.test({
  name:
    "agents killed with SIGKILL mid-stream are restarted and all 50 sessions publish exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome();
    // a person's quota is 10 a minute: this stream is an automation's
    await writeHomeConfig(t.home.config, {
      ...t.config,
      intake: { ...t.config.intake, person_per_minute: 10_000 },
    });
    await using running = await startTestSupervisor(t);
    const { supervisor } = running;
    const url = supervisor.intakeUrl!;
    const credential = await readOperatorToken(t.home.keys, "operator");
    const photo = sampleJpeg(320, 240);
    const victims = { 12: "text_formatter", 30: "deployment" } as Record<number, string>;

    const sessions: string[] = [];
    for (let i = 0; i < ARTICLES; i++) {
      const victim = victims[i];
      if (victim !== undefined) {
        const pid = await waitUntilUp(supervisor, victim);
        Deno.kill(pid, "SIGKILL");
      }
      const answer = await submitArticle({
        url,
        credential,
        title: `Article ${i}`,
        markdown: `Body of article **${i}**.`,
        ...(i % 10 === 5 ? { images: [{ name: `p${i}.jpg`, bytes: photo }] } : {}),
      });
      assert.ok(answer.ok, `submission ${i} refused: ${JSON.stringify(answer)}`);
      sessions.push(answer.session_id);
    }

    const events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      const published = new Set(all.filter((e) => e.type === "published").map((e) => e.session_id));
      return sessions.every((s) => published.has(s)) && all;
    }, { what: "every session to be published", timeoutMs: 240_000 }).catch(async (err) => {
      throw new Error(`${err}\n${await diagnose(t.home, sessions)}`);
    });

    for (const session of sessions) {
      const count = events.filter((e) => e.type === "published" && e.session_id === session).length;
      assert.equal(count, 1, `session ${session} published ${count} times`);
      await Deno.lstat(`${t.home.output}/${session}/index.html`);
    }
    for (const victim of Object.values(victims)) {
      const exits = events.filter((e) => e.type === "agent_exited" && subjectOf(e) === victim);
      const starts = events.filter((e) => e.type === "agent_started" && subjectOf(e) === victim);
      assert.ok(exits.length >= 1, `${victim} exit recorded`);
      assert.ok(starts.length >= 2, `${victim} restarted`);
    }
    await supervisor.stop();
    const verified = await verifyTestLedger(t);
    assert.ok(verified.ok, verified.message);
  },
});
