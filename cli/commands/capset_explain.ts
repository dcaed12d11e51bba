/**
 * `saoe capset explain AGENT`: the exact command line the supervisor spawns for
 * an agent, and for each permission the capability set line that produced it.
 * Everything is verified by the supervisor's own `preflight()` (trust root from
 * the pin, directory, every capset decrypted with the supervisor's identity and
 * dispatcher-signed, the tool manifest), and the command is the one it derives
 * with `agentCommand()` for the home and repository paths it would resolve.
 *
 * @module
 */
import { AGENT_ID_RE } from "../../core/primitives/ids/patterns.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { verifyAsSupervisor } from "../../core/services/supervisor/agent_commands.ts";
import { repoRoot } from "../_support/repo.ts";
import { jsonText, renderTable, shellQuote } from "../_support/output.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["capset", "explain"];

/** `saoe capset explain AGENT`. */
export const capsetExplainCommand: Command = {
  path: PATH,
  summary: "the exact sandboxed command an agent gets, and which capset line grants what",
  usage: "AGENT",
  description: [
    "Verifies the trust root chain from the pin in config.json, the agent's capability set",
    "(decrypted with the supervisor's key, dispatcher-signed, unexpired) and the signed tool",
    "manifest, then prints the exact command line the supervisor spawns for AGENT (same",
    "function, same flags; the supervisor also clears the environment and hands the agent its",
    "keys over stdin) and, for every permission, the capset field it comes from: trust and",
    "identity are what every agent gets, sends[i].to=X the inbox folder it may write at X,",
    "vault[i]=T a template it may decrypt, fs.read/fs.write a shared folder, net[i] a loopback",
    "port, default-deny the flags no capset can lift.",
    "",
    "The Deno command runs inside its bubblewrap sandbox, rendered from the same grants: a path",
    "granted for writing is bound read-write, one granted only for reading read-only, the code",
    "read-only, nothing else; with its own network namespace unless it listens on a port, kernel",
    "limits from the capset's limits, and (when the supervisor is root) its own uid.",
    "",
    "With --json: {agent, version, expires_at, command: [program, ...args] (what is spawned),",
    "deno_command: [deno, ...args], grants: [{flag, value, source}], sandbox: {binds: [{mode,",
    "path, source}], network, limits, identity: {uid, gid, groups} | null}}.",
    "",
    "Exit codes: 0 printed, 1 a verification failed or the capset derives a forbidden grant,",
    "2 usage (missing or unknown AGENT).",
  ].join("\n"),
  options: {},
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const [name, extra] = ctx.positionals;
      if (name === undefined) {
        throw new UsageError("Missing AGENT, e.g. saoe capset explain planner");
      }
      if (extra !== undefined) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(extra)}`);
      }
      const agent = patternOption(name, AGENT_ID_RE, "AGENT", "an agent id such as planner");
      const { home, config } = await openHome(ctx.global.home);
      if (!config.agents.includes(agent)) {
        throw new UsageError(
          `Unknown agent "${agent}": this home runs ${config.agents.join(", ")}`,
        );
      }
      const view = await verifyAsSupervisor({ home, config, clock: systemClock, repo: repoRoot() });
      const capset = view.capsets.get(agent)!;
      const cmd = view.commands.get(agent)!;
      const command = [cmd.program, ...cmd.programArgs];
      const sandbox = { ...cmd.sandbox, identity: cmd.identity ?? null };
      if (ctx.global.json) {
        ctx.out(jsonText({
          agent,
          version: capset.version,
          expires_at: capset.expires_at,
          command,
          deno_command: [cmd.deno, ...cmd.args],
          grants: cmd.grants,
          sandbox,
        }));
        return EXIT.ok;
      }
      ctx.out(
        `Agent ${agent}: capability set v${capset.version}, expires ${capset.expires_at}, verified against trust root v${view.root.version}`,
      );
      ctx.out("");
      ctx.out(
        `Command (spawned by the supervisor from ${view.repo}, environment cleared, keys over stdin):`,
      );
      ctx.out(`  ${command.map(shellQuote).join(" ")}`);
      ctx.out("");
      ctx.out("Layer 1, Deno permissions, and the capset lines behind them:");
      const rows = cmd.grants.map((
        g,
      ) => [`--${g.flag}`, g.value === "" ? "(all)" : g.value, g.source]);
      for (const line of renderTable(["flag", "value", "from"], rows)) ctx.out(`  ${line}`);
      ctx.out("");
      ctx.out("Layer 2, the bubblewrap sandbox: nothing else of the file system exists inside");
      const binds = cmd.sandbox.binds.map((b) => [
        b.mode === "rw" ? "--bind" : "--ro-bind",
        b.path,
        b.source,
      ]);
      for (const line of renderTable(["mount", "path", "from"], binds)) ctx.out(`  ${line}`);
      const l = cmd.sandbox.limits;
      ctx.out("");
      ctx.out(
        `  network: ${
          cmd.sandbox.network === "host"
            ? "the host's (for its loopback port)"
            : "none (its own empty namespace)"
        }`,
      );
      ctx.out(
        `  limits: ${l.memory_mib} MiB writable memory, ${l.open_files} open files, ` +
          `${l.processes} processes, ${l.file_size_mib} MiB per file, no core dumps`,
      );
      ctx.out(
        cmd.identity === undefined
          ? "  identity: the supervisor's uid (it is not root: uids are shared, the mount, pid and network isolation still apply)"
          : `  identity: uid ${cmd.identity.uid}, gid ${cmd.identity.gid}, groups ${
            cmd.identity.groups.join(",") || "none"
          }`,
      );
      return EXIT.ok;
    });
  },
};
