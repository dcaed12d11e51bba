/**
 * A full dead-letter area stops intake for that agent only: past
 * `limits.max_quarantine` the agent leaves new entries in its inbox, reports
 * `quarantine_limit_exceeded` (at most once a minute), and resumes once the
 * operator drops the dead letters.
 *
 * The agent's reconciliation scans are made visible: the pipeline runs from a
 * copy of the repository whose sanitization entry point runs the real agent
 * definition with the real inbox transport, only with a stderr line after each
 * entry the transport offered, so "two more scans" is two more offers of the
 * waiting entry, not a guessed time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { inboxFromDir } from "../../core/domain/home/layout.ts";
import { writeHomeConfig } from "../../core/domain/home/config.ts";
import { dropDead, listDead } from "../../core/domain/queue/dead_letter.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { copyRepository } from "../../core/devtools/attack/repo_copy.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  pinTestCode,
  REPO,
  startTestSupervisor,
  waitFor,
} from "../supervisor/_harness.ts";
import { plant, signedEnvelope } from "./_e2e.ts";

/** What the observed sanitization writes to stderr after each entry its transport offered. */
const OFFERED = "offered entry";

/**
 * A copy of the repository (see `copyRepository`) whose `agents/sanitization.ts`
 * runs the real sanitization definition (kept as `sanitization_definition.ts`)
 * with the real inbox watcher, and reports on stderr each entry the watcher
 * offered, once the agent has dealt with it. The caller removes it.
 */
async function observedRepository(): Promise<string> {
  const repo = await copyRepository(REPO);
  const agents = join(repo, "agents");
  await Deno.rename(join(agents, "sanitization.ts"), join(agents, "sanitization_definition.ts"));
  await Deno.writeTextFile(
    join(agents, "sanitization.ts"),
    `import { basename } from "node:path";
import { sanitization } from "./sanitization_definition.ts";
import { runAgent } from "../core/services/runtime/agent_runtime.ts";
import { watchInbox } from "../core/domain/queue/inbox.ts";
await runAgent(sanitization, {
  openInbox: (options) =>
    watchInbox({
      ...options,
      onEntry: async (path, origin) => {
        try {
          await options.onEntry(path, origin);
        } finally {
          console.error(${JSON.stringify(OFFERED)} + " " + basename(path));
        }
      },
    }),
});
`,
  );
  return repo;
}

Deno.test({
  name:
    "past max_quarantine an agent stops taking entries, reports it once, and resumes after a drop",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await makeTestHome({
      capsetEdits: {
        sanitization: (s: JsonObject) => {
          (s.limits as JsonObject).max_quarantine = 2;
        },
      },
    });
    // a short reconciliation interval: entries left waiting are picked up by the scan
    await writeHomeConfig(t.home.config, { ...t.config, reconcile_ms: 1000 });
    const repo = await observedRepository();
    await using _removeRepo = {
      [Symbol.asyncDispose]: () => Deno.remove(repo, { recursive: true }),
    };
    // the observing entry point is pinned as an operator would pin new code
    await pinTestCode(t, repo, [{ agent: "sanitization", toolModules: [] }]);
    await using running = await startTestSupervisor(t, { repo });
    const offers = (name: string) =>
      running.logs.filter((l) => l.includes(`${OFFERED} ${name}`)).length;
    const inbox = inboxFromDir(t.home, "sanitization", "intake");
    const garbage = new TextEncoder().encode("not json");
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    const paths = queuePaths(t.home, "sanitization");
    await waitFor(async () => (await listDead(paths.dead)).length === 2, {
      what: "two dead letters",
    });

    const valid = await signedEnvelope(t, {
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("waits for the operator"),
    });
    await plant(inbox, `${valid.envelope_id}.satl`, valid.bytes);
    await plant(inbox, `${crypto.randomUUID()}.satl`, garbage);
    await waitFor(
      async () => (await ledgerEvents(t.home)).some((e) => e.type === "quarantine_limit_exceeded"),
      {
        what: "quarantine_limit_exceeded",
      },
    );
    // two more reconciliation scans: the valid entry still waits, the event is not repeated
    // (each scan offers the waiting entry again; a late watcher event may offer it once more)
    const name = `${valid.envelope_id}.satl`;
    const offered = offers(name);
    await waitFor(() => offers(name) >= offered + 3, { what: "two more reconciliation scans" });
    let events = await ledgerEvents(t.home);
    assert.equal(events.filter((e) => e.type === "quarantine_limit_exceeded").length, 1);
    assert.ok(!events.some((e) => e.type === "validated" && e.envelope_id === valid.envelope_id));
    assert.equal((await listDead(paths.dead)).length, 2, "nothing more dead-lettered");
    await Deno.lstat(`${inbox}/${valid.envelope_id}.satl`);

    for (const entry of await listDead(paths.dead)) {
      await dropDead({ deadDir: paths.dead, key: entry.key });
    }
    events = await waitFor(async () => {
      const all = await ledgerEvents(t.home);
      return all.some((e) => e.type === "forwarded" && e.session_id === valid.session_id) && all;
    }, { what: "the waiting envelope processed after the drop" });
    assert.ok(events.some((e) => e.type === "validated" && e.envelope_id === valid.envelope_id));
  },
});
