/**
 * `kill -9` of the supervisor leaves nothing behind: every agent's stdin is its
 * lifeline, and when the kernel closes the supervisor's end the agent stops. Run
 * against a real `saoe pipeline` process with every agent, its local witness
 * and the two listening agents (intake, the viewer).
 */
import assert from "node:assert/strict";
import { readSupervisorStatus } from "../../core/services/supervisor/status.ts";
import { makeTestHome, startCliPipeline, waitFor } from "../supervisor/_harness.ts";
import { alive } from "../_support/process_alive.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

/** The pids of `saoe witness serve` processes whose command line names `state`. */
async function witnessPids(state: string): Promise<number[]> {
  const out: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    const args = cmdline.split("\0");
    if (args.includes("witness") && args.includes("serve") && args.includes(state)) {
      out.push(Number(entry.name));
    }
  }
  return out;
}

Deno.test({
  name:
    "kill -9 of the supervisor: within 2 s no agent and no local witness is left, and the listening ports are free",
  ...processTest,
  async fn() {
    await using t = await makeTestHome();
    const pipeline = await startCliPipeline(t);
    const status = await waitFor(async () => {
      const s = await readSupervisorStatus(t.home);
      return s !== undefined && s.agents.every((a) => a.state === "up") ? s : undefined;
    }, { what: "every agent up", timeoutMs: 30_000 });
    const agents = status.agents.map((a) => a.pid!);
    const ports = status.agents.flatMap((a) =>
      a.listen === undefined ? [] : [Number(a.listen.split(":")[1])]
    );
    assert.equal(agents.length, t.config.agents.length);
    assert.equal(ports.length, 2, "intake and the viewer listen");
    const witnesses = await witnessPids(`${t.root}.witness`);
    assert.equal(witnesses.length, 1, "the local witness runs");

    const exit = await pipeline.stop("SIGKILL");
    assert.equal(exit.signal, "SIGKILL");
    await waitFor(() => [...agents, ...witnesses].every((pid) => !alive(pid)), {
      what: "every agent and the witness to be gone",
      timeoutMs: 2_000,
    });
    for (const port of ports) {
      const listener = Deno.listen({ hostname: "127.0.0.1", port });
      listener.close();
    }
  },
});
