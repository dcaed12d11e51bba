/**
 * The largest checkpoint of a home's ledger that its witnesses vouch for: asked
 * of every configured witness (its latest cosigned checkpoint for the log's
 * origin, each verified with that witness's key and the log keys) and read from
 * the ledger's own record of witnessed checkpoints (verified against the whole
 * policy). Any one honest witness's answer is a lower bound on the history the
 * log has shown the world, so the largest verified one is the mark a ledger must
 * meet: the supervisor refuses to start below it, `saoe audit verify` fails.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { TrustedKeySet } from "../../primitives/dsse/types.ts";
import { formatNote } from "../../primitives/note/note.ts";
import { verifyWitnessedCheckpoint, type WitnessedHead } from "../../domain/ledger/checkpoint.ts";
import { latestCheckpoint } from "./client.ts";
import type { HomeWitnessPolicy } from "./policy.ts";

/** What the witnesses said. */
export interface WitnessedMark {
  /** The largest verified witnessed head, if any witness vouches for one. */
  head: WitnessedHead | undefined;
  /** Its full note (log signature and cosignatures). */
  note: string | undefined;
  /** Who vouches for `head`, for messages: `witness <name>` or `the ledger's witnessed record`. */
  source: string | undefined;
  /** Witnesses that answered. */
  reached: string[];
  /** Witnesses that could not be asked, with why. */
  unreachable: { name: string; error: string }[];
  /** The size each witness that answered last cosigned (0: it knows no checkpoint of this log). */
  sizes: Map<string, number>;
}

/** Options for {@linkcode witnessedMark}. */
export interface WitnessedMarkOptions {
  policy: HomeWitnessPolicy;
  origin: string;
  logKeys: TrustedKeySet;
  /** The ledger's latest stored witnessed note, if it has one (not trusted: verified here). */
  stored?: string;
  /** Per witness; default 5 s. */
  timeoutMs?: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Asks every witness and checks the stored record. Throws `witness_unavailable`
 * when fewer witnesses answered than the policy requires, and
 * `checkpoint_signature` when a witness answers with a checkpoint that does not
 * verify (it is not a mark to ignore quietly).
 *
 * @example
 * ```ts ignore
 * const mark = await witnessedMark({ policy, origin, logKeys });
 * console.log(mark.head?.size, mark.source);
 * ```
 */
export async function witnessedMark(options: WitnessedMarkOptions): Promise<WitnessedMark> {
  const { policy, origin, logKeys } = options;
  let best: { head: WitnessedHead; note: string; source: string } | undefined;
  const consider = (head: WitnessedHead, note: string, source: string) => {
    if (best === undefined || head.size > best.head.size) best = { head, note, source };
  };
  const reached: string[] = [];
  const sizes = new Map<string, number>();
  const unreachable: { name: string; error: string }[] = [];
  await Promise.all(policy.witnesses.map(async (witness) => {
    let answer;
    try {
      answer = await latestCheckpoint({
        url: witness.url,
        origin,
        timeoutMs: options.timeoutMs ?? 5_000,
      });
    } catch (err: unknown) {
      unreachable.push({ name: witness.name, error: describe(err) });
      return;
    }
    reached.push(witness.name);
    sizes.set(witness.name, 0);
    if (answer === undefined) return;
    const note = formatNote(answer);
    const head = await verifyWitnessedCheckpoint(note, {
      origin,
      logKeys,
      policy: { witnesses: [witness], threshold: 1 },
      what: `the checkpoint witness ${witness.name} vouches for`,
    });
    sizes.set(witness.name, head.size);
    consider(head, note, `witness ${witness.name}`);
  }));
  if (options.stored !== undefined) {
    try {
      const head = await verifyWitnessedCheckpoint(options.stored, {
        origin,
        logKeys,
        policy,
        what: "the ledger's latest witnessed checkpoint",
      });
      consider(head, options.stored, "the ledger's witnessed record");
    } catch {
      // a stored record that does not verify proves nothing; the witnesses decide
    }
  }
  if (reached.length < policy.threshold) {
    throw new SaoeError(
      "witness_unavailable",
      `Cannot check the ledger against its witnesses: ${reached.length} of ${policy.witnesses.length} answered, ${policy.threshold} required (${
        unreachable.map((u) => `${u.name}: ${u.error}`).join("; ")
      })`,
    );
  }
  const chosen = best as { head: WitnessedHead; note: string; source: string } | undefined;
  return {
    head: chosen?.head,
    note: chosen?.note,
    source: chosen?.source,
    reached,
    unreachable,
    sizes,
  };
}
