/**
 * The regression corpus under `tests/fuzz/corpus/`: each failing input is kept as
 * `<kind>-<first 16 hex of its sha256>.bin` with a `.json` note (seed, iteration,
 * mutation, problem, error, and what a correct verifier must do with it). The
 * default test replays every file: `expect: "refusal"` must be refused with a
 * reason code, `expect: "accepted_equal"` must be accepted with exactly a seed's
 * payload.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { type CorpusNote, decodeNote } from "./corpus_note.ts";
import { type Finding, judge, type PreparedTarget } from "./engine.ts";

export type { CorpusNote } from "./corpus_note.ts";

/** One corpus entry. */
export interface CorpusEntry {
  /** File name without extension. */
  name: string;
  bytes: Uint8Array;
  note: CorpusNote;
}

/** The corpus file name stem of an input of `kind`. */
export async function corpusName(kind: string, input: Uint8Array): Promise<string> {
  return `${kind}-${(await sha256Hex(new Uint8Array(input))).slice(0, 16)}`;
}

/** Saves a finding (input and note); returns the path of the `.bin` file. */
export async function saveFinding(dir: string, finding: Finding): Promise<string> {
  const name = await corpusName(finding.kind, finding.input);
  const note: CorpusNote = {
    kind: finding.kind,
    expect: "refusal",
    seed: finding.seed,
    iteration: finding.iteration,
    mutation: finding.mutation,
    problem: finding.problem,
    error: finding.error,
  };
  await Deno.mkdir(dir, { recursive: true });
  const bin = join(dir, `${name}.bin`);
  await Deno.writeFile(bin, finding.input);
  await Deno.writeTextFile(join(dir, `${name}.json`), JSON.stringify(note, null, 2) + "\n");
  return bin;
}

/** Every entry of the corpus folder, sorted by name; a `.bin` without a note is an error. */
export async function readCorpus(dir: string): Promise<CorpusEntry[]> {
  const entries: CorpusEntry[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".bin")) continue;
    const name = entry.name.slice(0, -4);
    const bytes = await Deno.readFile(join(dir, entry.name));
    const noteText = await Deno.readTextFile(join(dir, `${name}.json`));
    entries.push({ name, bytes, note: decodeNote(JSON.parse(noteText), name) });
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Replays one entry against its target; returns what is wrong, or `undefined`
 * when the verifier did what the note expects.
 */
export async function replayEntry(
  targets: ReadonlyMap<string, PreparedTarget>,
  entry: CorpusEntry,
): Promise<string | undefined> {
  const prepared = targets.get(entry.note.kind);
  if (prepared === undefined) return `${entry.name}: no fuzz target of kind ${entry.note.kind}`;
  const outcome = await judge(prepared, entry.bytes, { resigned: false });
  if (outcome.problem !== undefined && outcome.problem !== "accepted_mutation") {
    return `${entry.name}: ${outcome.problem}: ${outcome.error}`;
  }
  if (entry.note.expect === "refusal") {
    if (outcome.accepted) {
      return `${entry.name}: accepted, but its note expects a refusal${
        outcome.error === undefined ? "" : ` (${outcome.error})`
      }`;
    }
    return entry.note.code === undefined || entry.note.code === outcome.code
      ? undefined
      : `${entry.name}: refused with ${outcome.code}, but its note expects ${entry.note.code}`;
  }
  if (!outcome.accepted) {
    return `${entry.name}: refused (${outcome.code}), but its note expects acceptance as its seed`;
  }
  return outcome.problem === undefined ? undefined : `${entry.name}: ${outcome.error}`;
}
