/**
 * `saoe attack [NAME…|all]`: the red-team suite against a live pipeline. Each
 * attack tries its way through one boundary through real files, processes and
 * HTTP, and prints one line per try: `BLOCKED: <what was tried> — <where it
 * stopped> (<reason code>)`, or `BREACH: …` when it got through, when the audit
 * ledger shows no matching refusal, or when the wrong check caught it. Exit 0
 * only if every boundary held.
 *
 * The target: the pipeline running on `--home`; if none runs there (or with
 * `--fresh`), a pipeline of its own on a fresh temporary home, stopped and
 * removed afterwards. Attacks that need a tampered home or repository run on
 * scratch copies; the target's vault, trust root, keys, config and ledger are
 * only ever read.
 *
 * @module
 */
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { attackNamed, ATTACKS } from "../../core/devtools/attack/registry.ts";
import { runAttacks } from "../../core/devtools/attack/run.ts";
import { openTarget } from "../../core/devtools/attack/target.ts";
import { type Attack, formatLine } from "../../core/devtools/attack/types.ts";
import { inert, jsonText } from "../_support/output.ts";
import { repoRoot } from "../_support/repo.ts";
import { intOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["attack"];

function selected(ctx: CommandContext): Attack[] {
  const names = ctx.positionals.length === 0 ? ["all"] : ctx.positionals;
  if (names.includes("all")) {
    if (names.length > 1) throw new UsageError('"all" cannot be combined with attack names');
    return [...ATTACKS];
  }
  return names.map((name) => {
    const attack = attackNamed(name);
    if (attack === undefined) {
      throw new UsageError(
        `Unknown attack ${JSON.stringify(name.slice(0, 60))}: expected one of ${
          ATTACKS.map((a) => a.name).join(", ")
        } or all (see --list)`,
      );
    }
    return attack;
  });
}

function list(ctx: CommandContext): number {
  if (ctx.global.json) {
    ctx.out(jsonText({
      ok: true,
      attacks: ATTACKS.map((a) => ({ number: a.number, name: a.name, summary: a.summary })),
    }));
    return EXIT.ok;
  }
  const width = Math.max(...ATTACKS.map((a) => a.name.length));
  for (const a of ATTACKS) {
    ctx.out(`${String(a.number).padStart(2)}. ${a.name.padEnd(width)}  ${a.summary}`);
  }
  return EXIT.ok;
}

/** `saoe attack`. */
export const attackCommand: Command = {
  path: PATH,
  summary: "red-team attacks against a live pipeline; exit 0 only if every boundary held",
  usage: "[NAME…|all] [--list] [--fresh] [--timeout S] [--verbose]",
  description: [
    "Runs named attacks (default: all) against a live pipeline and prints one line per try:",
    "  BLOCKED: <what was tried> — <where it stopped> (<reason code>)",
    "  BREACH: <what was tried> — <what got through> (<expected reason code>)",
    "A try counts as blocked only when the audit ledger (read-only) holds the matching refusal",
    "(e.g. a rejected event with the expected reason and envelope id), or for attacks outside",
    "the ledger's view when their own evidence shows it (NotCapable from the sandbox, a refusal",
    "at supervisor start, an HTTP status, audit verify naming the first bad record). A refusal",
    "for another reason is a breach: the defence under test did not fire.",
    "",
    "Target: the pipeline running on --home. If none runs there, or with --fresh, the command",
    "starts its own on a fresh temporary home (system-assigned ports, raised intake quota, a small queue",
    "limit) and removes it afterwards. Attacks that need a tampered vault, trust root, key",
    "directory or tool module use scratch homes and a scratch copy of the repository; the",
    "target home is never modified beyond inbox entries and staged uploads an attacker could",
    "write. Run it on development homes: it leaves dead letters and audit events behind.",
    "",
    "Exit codes: 0 every boundary held, 1 a breach (or an attack could not run), 2 usage.",
  ].join("\n"),
  options: {
    list: { type: "boolean", help: "name every attack with one sentence and exit" },
    fresh: { type: "boolean", help: "always use a fresh temporary home and pipeline" },
    timeout: {
      type: "string",
      value: "S",
      help: "seconds to wait for each refusal event before calling a breach (default 10)",
    },
    verbose: { type: "boolean", help: "progress and timings on stderr" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.values.list === true) return list(ctx);
      const attacks = selected(ctx);
      const timeoutS = intOption(ctx.values.timeout, { name: "timeout", min: 1, max: 600 });
      const verbose = ctx.values.verbose === true;
      const log = (line: string) => {
        if (verbose) ctx.err(inert(line));
      };
      const explicitHome = typeof ctx.values.home === "string" ? ctx.global.home : undefined;
      const target = await openTarget({
        ...(explicitHome !== undefined ? { home: explicitHome } : {}),
        fresh: ctx.values.fresh === true,
        repo: repoRoot(),
        ...(timeoutS !== undefined ? { timeoutMs: timeoutS * 1000 } : {}),
        log,
      });
      // Ctrl-C: stop a pipeline this run started before leaving
      const onSignal = () => {
        void target.close().finally(() => Deno.exit(130));
      };
      Deno.addSignalListener("SIGINT", onSignal);
      Deno.addSignalListener("SIGTERM", onSignal);
      try {
        const report = await runAttacks({
          ctx: target.ctx,
          attacks,
          onLine: (line) => {
            if (!ctx.global.json) ctx.out(inert(formatLine(line)));
          },
        });
        if (ctx.global.json) {
          ctx.out(
            jsonText({
              ok: report.held,
              home: target.ctx.home.root,
              fresh: target.ctx.fresh,
              lines: report.lines,
            }),
          );
        } else {
          const breaches = report.lines.filter((l) => l.verdict === "BREACH").length;
          ctx.err(
            report.held
              ? `saoe attack: every boundary held (${report.lines.length} tries, ${attacks.length} attacks)`
              : `saoe attack: ${breaches} of ${report.lines.length} tries got through`,
          );
        }
        return report.held ? EXIT.ok : EXIT.failure;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
        Deno.removeSignalListener("SIGTERM", onSignal);
        await target.close();
      }
    });
  },
};
