/**
 * `saoe witness status`: the witness's identity and, for each log it knows,
 * the latest checkpoint it cosigned (size, root, time) and the forks it saw.
 *
 * @module
 */
import { toBase64 } from "../../core/primitives/crypto/bytes.ts";
import { readWitnessInfo } from "../../core/services/witness/state.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { inert, jsonText, renderTable } from "../_support/output.ts";
import { withUsage } from "../_support/usage.ts";
import { STATE_OPTION, stateDirOption } from "../_support/witness_state_option.ts";

const PATH = ["witness", "status"];

function isoSeconds(seconds: number | undefined): string | null {
  return seconds === undefined ? null : new Date(seconds * 1000).toISOString();
}

/** `saoe witness status`. */
export const witnessStatusCommand: Command = {
  path: PATH,
  summary: "the witness's logs, cosigned sizes and last cosign times",
  usage: "--state DIR",
  description: [
    "Prints the witness's name and vkey, then one row per known log: its origin, the size and",
    "root hash of the latest checkpoint the witness cosigned (0 and none before the first), when",
    "it cosigned it, and how many forks it refused (a second log-signed root at a size it had",
    "cosigned: evidence the log misbehaved, kept in witness.db). Reads without writing, also",
    "while the witness serves.",
    "",
    "Examples:",
    "  saoe witness status --state /var/lib/saoe-witness",
    "  saoe witness status --state /var/lib/saoe-witness --json",
    "",
    "Exit codes: 0 printed, 1 no initialised state, 2 usage.",
  ].join("\n"),
  options: { state: STATE_OPTION },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const info = await readWitnessInfo(stateDirOption(ctx));
      const logs = info.logs.map((log) => ({
        origin: log.origin,
        vkey: log.vkey,
        size: log.size,
        root_hash: log.root === undefined ? null : toBase64(log.root),
        cosigned_at: isoSeconds(log.cosignedAt),
        forks: log.forks,
      }));
      if (ctx.global.json) {
        ctx.out(
          jsonText({ ok: true, state: info.paths.dir, name: info.name, vkey: info.vkey, logs }),
        );
        return EXIT.ok;
      }
      ctx.out(`Witness ${inert(info.name)} (state ${inert(info.paths.dir)})`);
      ctx.out(`  vkey: ${inert(info.vkey)}`);
      if (logs.length === 0) {
        ctx.out("No logs yet: add one with saoe witness add-log --state DIR --origin O --vkey V");
        return EXIT.ok;
      }
      const rows = logs.map((l) => [
        l.origin,
        String(l.size),
        l.root_hash ?? "-",
        l.cosigned_at ?? "never",
        String(l.forks),
      ]);
      for (const line of renderTable(["origin", "size", "root", "cosigned", "forks"], rows)) {
        ctx.out(line);
      }
      return EXIT.ok;
    });
  },
};
