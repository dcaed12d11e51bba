/**
 * `saoe capset check (--sources DIR | --home H)`: the CI gate on permission
 * manifests. `--sources` checks the plaintext capset and template sources
 * reviewed in git (what `saoe init` and `saoe publish` would sign); `--home`
 * checks what a real home would run, signatures and expiry included. The logic
 * lives in `core/services/capset_check/check_sources.ts` and `core/services/capset_check/check_home.ts`; this
 * file only parses the call and prints the report.
 *
 * @module
 */
import { checkHome } from "../../core/services/capset_check/check_home.ts";
import { checkSources } from "../../core/services/capset_check/check_sources.ts";
import type { CheckReport } from "../../core/services/capset_check/check_report.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { repoRoot } from "../_support/repo.ts";
import { ReadOnlyVersionStore } from "../../core/domain/trust/version_store_readonly.ts";
import { supervisorVersionsPath } from "../../core/domain/home/layout.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["capset", "check"];

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** `saoe capset check`. */
export const capsetCheckCommand: Command = {
  path: PATH,
  summary: "CI check of capability sets: forbidden grants, edges, templates, tools, signatures",
  usage: "(--sources DIR | --home DIR)",
  description: [
    "Checks every agent's capability set and fails on anything the pipeline must not run with.",
    "Give exactly one of:",
    "",
    "  --sources DIR  the plaintext sources reviewed in git (DIR/capsets/<agent>.json and",
    "                 DIR/templates/<id>.json, e.g. vault/): each file strictly decoded and",
    "                 named for its agent or template; flags derived for a home at /srv/saoe",
    "                 with the built-in tools.",
    "  --home DIR     a real home: the trust root chain from the pin in config.json, the agent",
    "                 key directory, every capset decrypted with the supervisor's key and",
    "                 checked for its dispatcher signature and expiry, the tool manifest and",
    "                 each tool module's digest, the published templates' manifests.",
    "",
    "Then, on the capsets that decoded or verified: every agent's Deno flags are derived with",
    "the supervisor's function and any forbidden grant is a finding (reading another agent's",
    "inbox or state, keys or config; writing the vault, trust root or ledger; leaving the home),",
    "as is an edge sent but not received (or the reverse), a template or tool named but absent,",
    "a template an agent sends or receives but does not hold in its vault, an edge its",
    "template's policy (allowed_senders/allowed_receivers) refuses, and two capsets for one agent.",
    "",
    "Output: one line per finding, FILE: AGENT: REASON: DETAIL (AGENT is - when the finding",
    "concerns no single agent; REASON is a stable code), then a summary line. With --json:",
    "{ok, findings: [{file, agent, reason, detail}], checked: {capsets, templates}}.",
    "",
    "Exit codes: 0 no finding, 1 any finding, 2 usage (neither or both of --sources and --home).",
  ].join("\n"),
  options: {
    sources: {
      type: "string",
      value: "DIR",
      help: "check the capset and template sources in DIR (e.g. vault/)",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const sources = ctx.values.sources;
      const home = ctx.values.home;
      if (typeof sources === "string" && typeof home === "string") {
        throw new UsageError("Give either --sources DIR or --home DIR, not both");
      }
      if (typeof sources !== "string" && typeof home !== "string") {
        throw new UsageError(
          "Missing what to check: give --sources DIR (e.g. --sources vault/) or --home DIR",
        );
      }
      if (sources === "" || home === "") throw new UsageError('Expected a folder, got ""');
      let report: CheckReport;
      let subject: string;
      if (typeof sources === "string") {
        subject = `${sources} (sources)`;
        report = await checkSources({ dir: sources, repo: repoRoot() });
      } else {
        const root = String(home);
        subject = `${root} (home)`;
        report = await checkHome({
          home: root,
          // the supervisor runs agents and tools from the symlink-free repository path
          repo: await Deno.realPath(repoRoot()),
          clock: systemClock,
          versionStore: new ReadOnlyVersionStore(supervisorVersionsPath(homeLayout(root))),
        });
      }
      if (ctx.global.json) {
        ctx.out(jsonText(report));
      } else {
        for (const f of report.findings) {
          ctx.out(`${inert(f.file)}: ${inert(f.agent)}: ${f.reason}: ${inert(f.detail)}`);
        }
        const { capsets, templates } = report.checked;
        const counted = `${count(capsets, "capability set")} and ${count(templates, "template")}`;
        ctx.out(
          report.ok
            ? `capset check: ok: ${counted} in ${inert(subject)}, no findings`
            : `capset check: ${count(report.findings.length, "finding")} in ${
              inert(subject)
            } (${counted} checked)`,
        );
      }
      return report.ok ? EXIT.ok : EXIT.failure;
    });
  },
};
