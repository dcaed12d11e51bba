/**
 * The `.json` note beside each regression corpus input.
 *
 * @module
 */

/** What a correct verifier does with a corpus input. */
export type Expectation = "refusal" | "accepted_equal";

/** The note of one corpus input. */
export interface CorpusNote {
  /** Fuzz target kind (e.g. `plan`, `envelope_sanitization`). */
  kind: string;
  /** `refusal`: refused with a reason code; `accepted_equal`: accepted as exactly a seed. */
  expect: Expectation;
  /** Run seed and iteration that produced it (absent for hand-written entries). */
  seed?: number;
  iteration?: number;
  /** For `refusal`: the exact reason code expected, when it matters. */
  code?: string;
  /** Mutation(s) applied. */
  mutation: string;
  /** The problem it showed when found (absent for hand-picked regression inputs). */
  problem?: string;
  /** What the verifier threw, or why the acceptance was wrong, when found. */
  error?: string;
  /** Free text: why the entry is kept, the fix it guards. */
  comment?: string;
}

/** Checks a parsed note; throws an Error naming the file otherwise. */
export function decodeNote(value: unknown, name: string): CorpusNote {
  const fail = (what: string): never => {
    throw new Error(`Corpus note ${name}.json: ${what}`);
  };
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail("not an object");
  const note = value as Record<string, unknown>;
  const allowed = [
    "kind",
    "expect",
    "code",
    "seed",
    "iteration",
    "mutation",
    "problem",
    "error",
    "comment",
  ];
  for (const key of Object.keys(note)) if (!allowed.includes(key)) fail(`unknown field ${key}`);
  if (typeof note.kind !== "string" || !name.startsWith(`${note.kind}-`)) {
    fail("kind must be a string that starts the file name");
  }
  if (note.expect !== "refusal" && note.expect !== "accepted_equal") {
    fail('expect must be "refusal" or "accepted_equal"');
  }
  if (typeof note.mutation !== "string") fail("mutation must be a string");
  for (const key of ["seed", "iteration"]) {
    if (note[key] !== undefined && !Number.isSafeInteger(note[key])) {
      fail(`${key} must be an integer`);
    }
  }
  for (const key of ["code", "problem", "error", "comment"]) {
    if (note[key] !== undefined && typeof note[key] !== "string") fail(`${key} must be a string`);
  }
  return note as unknown as CorpusNote;
}
