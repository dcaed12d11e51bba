/**
 * `saoe audit prove`: writes a proof bundle that verifies offline — inclusion
 * proofs of one record (`--seq N`) or of every record of a session
 * (`--session ID`), and/or a consistency proof from an earlier tree size
 * (`--from N`), all against the latest witnessed checkpoint (or, with
 * `--unwitnessed`, the latest checkpoint the log signed). `saoe audit
 * verify-proof FILE` checks one.
 *
 * @module
 */
import { toBase64 } from "../../core/primitives/crypto/bytes.ts";
import { UUID_RE } from "../../core/primitives/ids/patterns.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { decodeEvent } from "../../core/domain/ledger/events.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { hashesToBase64, type ProofBundle } from "../../core/domain/ledger/proof_bundle.ts";
import { parseCheckpoint } from "../../core/primitives/note/checkpoint.ts";
import { parseNote } from "../../core/primitives/note/note.ts";
import { SaoeError } from "../../core/primitives/errors.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { openLedgerForReading } from "../_support/ledger_access.ts";
import { jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "prove"];

function positiveInt(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !/^[0-9]{1,15}$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} expects a record number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** `saoe audit prove`. */
export const auditProveCommand: Command = {
  path: PATH,
  summary: "write inclusion and consistency proofs that verify offline",
  usage: "(--seq N | --session ID | --from N) [--unwitnessed] [--out FILE]",
  description: [
    "Writes a proof bundle (JSON) about the home's audit ledger: the latest checkpoint the",
    "witnesses cosigned, and proofs against it, each checkable without the ledger:",
    "  --seq N        the inclusion proof of record N, with its exact bytes",
    "  --session ID   the inclusion proofs of every record of that session",
    "  --from N       the consistency proof that the tree of N records is a prefix of it",
    "Options combine. --unwitnessed proves against the latest checkpoint the log signed, for",
    "records the witnesses have not cosigned yet (say so to whoever checks it).",
    "Check a bundle with: saoe audit verify-proof FILE",
    "",
    "Examples:",
    "  deno task saoe audit prove --session 3f0c6a9e-1b2d-4c8e-9f00-123456789abc --out proof.json",
    "  deno task saoe audit prove --from 120 --out growth.json",
    "",
    "Exit codes: 0 written, 1 nothing to prove against or the record is not covered, 2 usage.",
  ].join("\n"),
  options: {
    seq: { type: "string", value: "N", help: "prove record N (1-based)" },
    session: { type: "string", value: "ID", help: "prove every record of this session" },
    from: { type: "string", value: "N", help: "prove the tree of N records is a prefix" },
    unwitnessed: {
      type: "boolean",
      help: "prove against the latest log-signed checkpoint, not the latest witnessed one",
    },
    out: {
      type: "string",
      value: "FILE",
      help: "write the bundle here (default: standard output)",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const seq = positiveInt(ctx.values.seq, "seq");
      const from = positiveInt(ctx.values.from, "from");
      const session = ctx.values.session as string | undefined;
      if (session !== undefined && !UUID_RE.test(session)) {
        throw new UsageError(
          `--session expects a session id (UUID), got ${JSON.stringify(session)}`,
        );
      }
      if (seq === undefined && from === undefined && session === undefined) {
        throw new UsageError("Say what to prove: --seq N, --session ID or --from N");
      }
      const { home, config } = await openHome(ctx.global.home);
      const ledger = await openLedgerForReading(home);
      try {
        let note: string | undefined;
        let witnessed = false;
        if (ctx.values.unwitnessed === true) {
          const size = ledger.head().size;
          for (let s = size; s > 0 && note === undefined; s--) note = ledger.checkpointAt(s);
        } else {
          note = ledger.latestWitnessed()?.note;
          witnessed = note !== undefined;
        }
        if (note === undefined) {
          throw new SaoeError(
            "ledger_broken",
            ctx.values.unwitnessed === true
              ? "Nothing to prove against: the ledger holds no checkpoint yet"
              : "Nothing to prove against: no witness has cosigned a checkpoint of this ledger yet (--unwitnessed proves against the log's own)",
          );
        }
        const size = parseCheckpoint(parseNote(note).text).size;
        const seqs: number[] = [];
        if (seq !== undefined) seqs.push(seq);
        if (session !== undefined) {
          let after = 0;
          for (;;) {
            const batch = ledger.read({ afterSeq: after, limit: 5000 });
            for (const r of batch) {
              if (r.seq > size) break;
              try {
                if (decodeEvent(r.bytes).session_id === session) seqs.push(r.seq);
              } catch {
                // a record that does not decode belongs to no session
              }
            }
            if (batch.length < 5000 || (batch.at(-1)?.seq ?? 0) >= size) break;
            after = batch.at(-1)!.seq;
          }
          if (seqs.length === 0 && seq === undefined) {
            throw new SaoeError(
              "not_found",
              `No record of session ${session} within the ${size} records the checkpoint covers`,
            );
          }
        }
        for (const s of seqs) {
          if (s > size) {
            throw new SaoeError(
              "ledger_broken",
              `Record ${s} is not covered by the checkpoint of ${size} records yet; wait for the next checkpoint or use --unwitnessed`,
            );
          }
        }
        if (from !== undefined && from > size) {
          throw new UsageError(`--from ${from} is beyond the checkpoint's ${size} records`);
        }
        const bundle: ProofBundle = {
          format: "saoe-ledger-proof/1",
          origin: logOrigin(config.root_pin),
          checkpoint: note,
          ...(witnessed ? { witnessed: true as const } : {}),
          inclusion: [...new Set(seqs)].sort((a, b) => a - b).map((s) => ({
            seq: s,
            record: toBase64(ledger.read({ afterSeq: s - 1, limit: 1 })[0]!.bytes),
            proof: hashesToBase64(ledger.inclusionProof(s, size)),
          })),
          ...(from !== undefined
            ? {
              consistency: {
                old_size: from,
                old_root: toBase64(ledger.root(from)),
                proof: hashesToBase64(ledger.consistencyProof(from, size)),
                ...(ledger.checkpointAt(from) !== undefined
                  ? { old_checkpoint: ledger.checkpointAt(from)! }
                  : {}),
              },
            }
            : {}),
        };
        const text = `${JSON.stringify(bundle, null, 2)}\n`;
        const out = ctx.values.out as string | undefined;
        if (out === undefined) ctx.out(text.trimEnd());
        else {
          await Deno.writeTextFile(out, text, { mode: 0o644 });
          const summary = {
            ok: true,
            file: out,
            tree_size: size,
            witnessed,
            records: bundle.inclusion.length,
            ...(from !== undefined ? { consistency_from: from } : {}),
            at: new Date(systemClock.now()).toISOString(),
          };
          if (ctx.global.json) ctx.out(jsonText(summary));
          else {
            ctx.out(
              `Wrote ${out}: ${bundle.inclusion.length} inclusion proof(s)${
                from !== undefined ? ` and a consistency proof from ${from}` : ""
              } against ${
                witnessed ? "the witnessed" : "the log-signed"
              } checkpoint of ${size} records`,
            );
          }
        }
        return EXIT.ok;
      } finally {
        ledger.close();
      }
    });
  },
};
