/**
 * Pinned code (docs/design.md section 12), on a real supervisor and real agent
 * processes. A checkout whose every file the home's dispatcher-signed code
 * manifest pins gets one byte changed in four places: an agent's entry, a core
 * module only one agent imports, an npm file only one agent loads, and a file
 * of a tool's dependency. Each of those agents is refused with
 * `code_hash_mismatch`, an `agent_refused` event naming the file, and the
 * others run and process work. Re-pinning the change (what `saoe publish
 * --code` signs) and a reload start the refused agent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentCodeFiles, verifyCodeManifest } from "../../core/domain/code/manifest.ts";
import { codeManifestPath } from "../../core/domain/vault/layout.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { BUILTIN_TOOLS } from "../../core/domain/toolgate/builtin_tools.ts";
import type { AgentCode } from "../../core/services/ceremony/code_pin.ts";
import {
  articlePayload,
  injectEnvelope,
  ledgerEvents,
  makeTestHome,
  pinTestCode,
  REPO,
  startTestSupervisor,
  type TestHome,
  waitFor,
  waitUntilUp,
} from "../supervisor/_harness.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false } as const;

/** A full copy of the runnable checkout (npm files included, so they can be changed). */
async function copyCheckout(): Promise<string> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-pinned-repo-" }));
  await Deno.chmod(root, 0o755);
  for (const name of ["agents", "core", "cli", "node_modules", "deno.json", "deno.lock"]) {
    const out = await new Deno.Command("cp", { args: ["-a", join(REPO, name), root] }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  }
  return root;
}

function agentCode(t: TestHome): AgentCode[] {
  const tools: Record<string, string[]> = {
    text_formatter: ["markdown_to_html"],
    image_filter: ["image_sanitize"],
  };
  return t.config.agents.map((agent) => ({
    agent,
    toolModules: (tools[agent] ?? []).map((n) => BUILTIN_TOOLS.find((b) => b.name === n)!.module),
  }));
}

async function pinnedBy(t: TestHome): Promise<Map<string, Set<string>>> {
  const seeds = await t.keys.loadDispatchers();
  const keys = await Promise.all(seeds.map((s) => SigningKey.fromSeed(s)));
  const manifest = await verifyCodeManifest(await Deno.readFile(codeManifestPath(t.home.vault)), {
    dispatcher: { name: "dispatcher", keys, threshold: keys.length },
    clock: systemClock,
    skewMs: t.config.skew_ms,
  });
  const owners = new Map<string, Set<string>>();
  for (const agent of t.config.agents) {
    for (const path of agentCodeFiles(manifest, agent).keys()) {
      owners.set(path, (owners.get(path) ?? new Set()).add(agent));
    }
  }
  return owners;
}

/** A pinned file exactly `agents` load, whose path matches `pattern`. */
function loadedBy(owners: Map<string, Set<string>>, agents: string[], pattern: RegExp): string {
  const path = [...owners].find(([p, a]) =>
    a.size === agents.length && agents.every((x) => a.has(x)) && pattern.test(p)
  )?.[0];
  assert.ok(path !== undefined, `a pinned file matching ${pattern} exactly ${agents} load`);
  return path;
}

async function flipByte(repo: string, path: string): Promise<void> {
  const full = join(repo, path);
  const bytes = await Deno.readFile(full);
  // a comment at the end keeps the module valid: only its hash changes
  await Deno.writeFile(full, new Uint8Array([...bytes, ...new TextEncoder().encode("\n//x\n")]));
}

Deno.test({
  name:
    "a changed byte in an entry, a core module, an npm file and a tool's dependency refuses exactly those agents with code_hash_mismatch",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const repo = await copyCheckout();
    try {
      await pinTestCode(t, repo, agentCode(t));
      const owners = await pinnedBy(t);
      // the markdown tool's library is loaded by the tool host and by deployment's check
      const toolDependency = loadedBy(
        owners,
        ["deployment", "text_formatter"],
        /^node_modules\/.*markdown-it.*\.js$/,
      );
      const changed = new Map<string, string>([
        ["planner", "agents/planner.ts"],
        // deployment names the first mismatching file in path order: its core module
        ["deployment", loadedBy(owners, ["deployment"], /^core\/.*\.ts$/)],
        ["image_filter", loadedBy(owners, ["image_filter"], /^node_modules\/.*\.js$/)],
        ["text_formatter", toolDependency],
      ]);
      for (const path of new Set(changed.values())) await flipByte(repo, path);

      await using running = await startTestSupervisor(t, { repo });
      for (const agent of ["sanitization", "intake", "viewer"]) {
        await waitUntilUp(running.supervisor, agent);
      }
      for (const [agent, file] of changed) {
        const status = running.supervisor.agents().find((a) => a.name === agent)!;
        assert.equal(status.state, "refused", `${agent}: ${JSON.stringify(status)}`);
        assert.equal(status.refusal?.code, "code_hash_mismatch");
        assert.equal(status.refusal?.file, file);
      }
      const events = await waitFor(async () => {
        const all = await ledgerEvents(t.home);
        return all.filter((e) => e.type === "agent_refused").length >= 4 && all;
      }, { what: "four agent_refused events" });
      const refused = events.filter((e) => e.type === "agent_refused");
      assert.deepEqual(
        refused.map((e) => [e.detail?.agent, e.detail?.file, e.reason]).sort(),
        [...changed].map(([a, f]) => [a, f, "code_hash_mismatch"]).sort(),
      );
      assert.ok(
        !events.some((e) => e.type === "agent_started" && changed.has(String(e.detail?.agent))),
      );
      assert.ok(
        running.logs.some((l) => l.includes("agents/planner.ts") && l.includes("publish --code")),
      );

      // the others keep working: sanitization takes an envelope and forwards it to the planner
      const sent = await injectEnvelope(t, {
        sender: "intake",
        receiver: "sanitization",
        template: "blog_article_intent",
        payload: articlePayload(),
      });
      await waitFor(
        async () =>
          (await ledgerEvents(t.home)).some((e) =>
            e.type === "forwarded" && e.agent === "sanitization" && e.session_id === sent.session_id
          ),
        { what: "sanitization to forward the envelope" },
      );

      // the operator accepts the change: re-pinned, a reload starts exactly the refused ones again
      await pinTestCode(t, repo, agentCode(t));
      await running.supervisor.reload();
      await waitUntilUp(running.supervisor, "planner");
      await waitUntilUp(running.supervisor, "deployment");
    } finally {
      await Deno.remove(repo, { recursive: true });
    }
  },
});
