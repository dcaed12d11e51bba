/**
 * `saoe audit verify`: recomputes the whole audit ledger (every record's chain
 * hash and the Merkle tree over the records) and checks it against the latest
 * checkpoint its witnesses cosigned, which it asks them for (or reads from
 * `--checkpoint FILE`, a copy the operator kept elsewhere), and every checkpoint
 * stored in the ledger against the supervisor's keys, taken from the agent key
 * directory only after walking the trust root chain from the pin in
 * `config.json` (nothing in the ledger vouches for itself).
 * With `--outputs` it also checks every file under `output/` against its
 * session's `published` event (`core/services/deployment/output_audit.ts`).
 *
 * @module
 */
import { ledgerPath } from "../../core/domain/home/layout.ts";
import { verifyLedger } from "../../core/domain/ledger/verify.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { verifyWitnessedCheckpoint } from "../../core/domain/ledger/checkpoint.ts";
import { witnessedMark } from "../../core/services/witness/witnessed_head.ts";
import { witnessPolicy } from "../../core/services/witness/policy.ts";
import { readSmallFile } from "../_support/safe_read.ts";
import { reachWitnesses } from "../_support/witness_access.ts";
import {
  auditOutputs,
  findingText,
  outputAuditJson,
  readPublished,
} from "../../core/services/deployment/output_audit.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { checkpointKeys, verifyHomeTrust } from "../../core/domain/trust/home_trust.ts";
import { openLedgerForReading } from "../_support/ledger_access.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "verify"];

/** `saoe audit verify`. */
export const auditVerifyCommand: Command = {
  path: PATH,
  summary: "verify the audit ledger against what its witnesses vouch for",
  usage: "[--checkpoint FILE] [--outputs]",
  description: [
    "Verifies the home's audit ledger: every record's hash chain and the Merkle tree over all",
    "records, every checkpoint stored in the ledger (signed by the supervisor's keys from the",
    "agent key directory, after the trust root chain is verified from the pin in config.json),",
    "and, above all, the latest checkpoint the witnesses in config.json cosigned: the ledger must",
    "hold at least that many records and have its root there. The witnesses are asked (a local",
    "one is started for the check when no pipeline runs); --checkpoint FILE uses a cosigned",
    "checkpoint you kept elsewhere instead (e.g. a copy of audit/checkpoint).",
    "",
    "Fails, naming the regression, when the ledger is missing, unreadable, shorter than the",
    'witnessed checkpoint ("the witness vouches for 167 records; the ledger holds 15") or',
    "rewritten; and on edited, deleted, reordered or inserted records. Records after the last",
    "witnessed checkpoint are vouched for by the supervisor's key only (shown as unwitnessed).",
    "",
    "With --outputs, also checks every file under output/ against the published event of its",
    "session (the SHA-256 deployment recorded for the page and each image) and lists every",
    "file that does not match, every file missing, every file no event names and every",
    "session folder no published event vouches for, each with the reason output_mismatch.",
    "",
    "Examples:",
    "  deno task saoe audit verify",
    "  deno task saoe audit verify --checkpoint /backup/saoe-checkpoint --outputs",
    "",
    "Exit codes: 0 verified, 1 a regression, a bad record (the first one is named), an output",
    "finding, or no witness reachable, 2 usage.",
  ].join("\n"),
  options: {
    checkpoint: {
      type: "string",
      value: "FILE",
      help: "check against this cosigned checkpoint instead of asking the witnesses",
    },
    outputs: {
      type: "boolean",
      help: "also check output/ against the published events",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const { home, config } = await openHome(ctx.global.home);
      const { directory } = await verifyHomeTrust({ home, config, clock: systemClock });
      const logKeys = checkpointKeys(directory, systemClock.now());
      const origin = logOrigin(config.root_pin);
      let witnessed;
      let source: string | undefined;
      const file = ctx.values.checkpoint as string | undefined;
      if (file !== undefined) {
        witnessed = await verifyWitnessedCheckpoint(
          await readSmallFile(file, { maxBytes: 16 * 1024, what: "checkpoint file" }),
          { origin, logKeys, policy: witnessPolicy(config), what: `checkpoint file ${file}` },
        );
        source = `the checkpoint in ${file} (cosigned by ${
          witnessed.cosigners.map((c) => c.name).join(", ")
        })`;
      } else {
        await using reachable = await reachWitnesses(home, config, (line) => ctx.err(line));
        const stored = await storedWitnessed(home);
        const mark = await witnessedMark({
          policy: reachable.policy,
          origin,
          logKeys,
          ...(stored !== undefined ? { stored } : {}),
        });
        witnessed = mark.head;
        source = mark.source;
      }
      const result = await verifyLedger({
        path: ledgerPath(home),
        origin,
        logKeys,
        ...(witnessed !== undefined ? { witnessed } : {}),
        ...(source !== undefined ? { witnessedSource: source } : {}),
      });
      const outputs = ctx.values.outputs === true
        ? await auditOutputs({
          home,
          published: async () => {
            const ledger = await openLedgerForReading(home);
            try {
              return readPublished(ledger);
            } finally {
              ledger.close();
            }
          },
        })
        : undefined;
      const ok = result.ok && (outputs?.ok ?? true);
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok,
          size: result.size,
          checked: result.checked,
          checkpoints: result.checkpoints,
          witnessed_size: result.witnessedSize,
          unwitnessed: result.unwitnessed,
          ...(source !== undefined ? { witnessed_by: source } : {}),
          ...(result.firstBad !== undefined ? { first_bad: result.firstBad } : {}),
          message: result.message,
          ...(outputs !== undefined ? { outputs: outputAuditJson(outputs) } : {}),
        }));
      } else if (result.ok) {
        ctx.out(`ok: ${inert(result.message)}`);
      } else {
        ctx.err(`saoe audit verify: ${inert(result.message)}`);
        if (result.firstBad !== undefined) {
          ctx.err(
            `First bad record: seq ${result.firstBad.seq} (${result.firstBad.reason}); records before it verified`,
          );
        }
      }
      if (outputs !== undefined && !ctx.global.json) {
        for (const f of outputs.findings) ctx.err(`saoe audit verify: ${inert(findingText(f))}`);
        const summary =
          `${outputs.published} published session(s), ${outputs.checked} file(s) checked against their published events`;
        if (outputs.ok) ctx.out(`ok: ${summary}`);
        else ctx.err(`${outputs.findings.length} output finding(s); ${summary}`);
      }
      return ok ? EXIT.ok : EXIT.failure;
    });
  },
};

/** The ledger's own stored witnessed checkpoint (verified by the caller, trusted by no one). */
async function storedWitnessed(home: Parameters<typeof openLedgerForReading>[0]) {
  try {
    const ledger = await openLedgerForReading(home);
    try {
      return ledger.latestWitnessed()?.note;
    } finally {
      ledger.close();
    }
  } catch {
    return undefined;
  }
}
