/**
 * docs/design.md lists the payload types, the validation steps, the reason codes,
 * the audit event types, the exit codes and the CLI commands. This test reads
 * each list from the code's exported constants and from the doc, and fails when
 * one has a name the other lacks.
 *
 * The doc's format: each list is the first Markdown table after a line
 * `<!-- design-doc-test: NAME -->`; the first cell of each body row holds the
 * name in backticks (the steps table: the step number).
 */
import assert from "node:assert/strict";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { OTHER_CODES, VALIDATION_CODES } from "../../core/primitives/errors.ts";
import { EVENT_TYPES } from "../../core/domain/ledger/events.ts";
import { COMMANDS } from "../../cli/registry.ts";
import { EXIT } from "../../cli/_support/command.ts";

const DOC_PATH = new URL("../../docs/design.md", import.meta.url);

/** The body rows of every marked table of `doc`, as cells, by table name. */
export function markedTables(doc: string): Map<string, string[][]> {
  const lines = doc.split("\n");
  const tables = new Map<string, string[][]>();
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- design-doc-test: ([a-z0-9-]+) -->$/.exec(lines[i]!.trim());
    if (marker === null) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === "") j++;
    const rows: string[][] = [];
    for (; j < lines.length && lines[j]!.trim().startsWith("|"); j++) rows.push(cells(lines[j]!));
    assert.ok(rows.length >= 2, `docs/design.md: no table after the marker "${marker[1]}"`);
    assert.ok(!tables.has(marker[1]!), `docs/design.md: the marker "${marker[1]}" is used twice`);
    // the header and the |---| line are not entries
    tables.set(marker[1]!, rows.slice(2));
  }
  return tables;
}

/** The cells of one table row, split at unescaped `|`, trimmed. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
}

/** The text of a cell that is one code span, e.g. `` `replay` `` → `replay`. */
function code(cell: string | undefined, where: string): string {
  const m = /^`([^`]+)`$/.exec(cell ?? "");
  assert.ok(m !== null, `docs/design.md, ${where}: expected one \`name\` in the cell, got ${cell}`);
  return m[1]!;
}

function table(name: string): string[][] {
  const found = markedTables(Deno.readTextFileSync(DOC_PATH)).get(name);
  assert.ok(found !== undefined, `docs/design.md has no table marked "${name}"`);
  return found;
}

function firstColumn(name: string): string[] {
  return table(name).map((row, i) => code(row[0], `table "${name}" row ${i + 1}`));
}

/** Fails naming what only one side has. */
function sameSet(name: string, inCode: readonly string[], inDoc: readonly string[]): void {
  const docSet = new Set(inDoc);
  const codeSet = new Set(inCode);
  assert.equal(docSet.size, inDoc.length, `docs/design.md table "${name}" lists a name twice`);
  assert.deepEqual(
    {
      "in the code, missing from docs/design.md": inCode.filter((x) => !docSet.has(x)),
      "in docs/design.md, no longer in the code": inDoc.filter((x) => !codeSet.has(x)),
    },
    {
      "in the code, missing from docs/design.md": [],
      "in docs/design.md, no longer in the code": [],
    },
    `docs/design.md table "${name}" and the code disagree`,
  );
}

Deno.test("docs/design.md lists every payload type of PAYLOAD_TYPES with its exact value", () => {
  const rows = table("payload-types");
  const inDoc = rows.map((row, i) => [
    code(row[0], `payload-types row ${i + 1}`),
    code(row[1], `payload-types row ${i + 1}`),
  ]);
  sameSet("payload-types", Object.keys(PAYLOAD_TYPES), inDoc.map(([kind]) => kind!));
  for (const [kind, type] of inDoc) {
    assert.equal(type, PAYLOAD_TYPES[kind as keyof typeof PAYLOAD_TYPES], `payloadType of ${kind}`);
  }
});

Deno.test("docs/design.md lists VALIDATION_CODES in validation order and every OTHER_CODES code", () => {
  const validation = firstColumn("validation-codes");
  sameSet("validation-codes", VALIDATION_CODES, validation);
  assert.deepEqual(validation, [...VALIDATION_CODES], "validation codes out of validation order");
  sameSet("other-codes", OTHER_CODES, firstColumn("other-codes"));
});

Deno.test("docs/design.md's fourteen validation steps name only reason codes, every validator code among them", () => {
  const rows = table("validation-steps");
  assert.deepEqual(rows.map((r) => r[0]), Array.from({ length: 14 }, (_, i) => String(i + 1)));
  const known = new Set<string>([...VALIDATION_CODES, ...OTHER_CODES]);
  const named = rows.flatMap((r) => [...(r[2] ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
  assert.deepEqual(named.filter((c) => !known.has(c)), [], "steps name unknown reason codes");
  const steps = new Set(named);
  assert.deepEqual(VALIDATION_CODES.filter((c) => !steps.has(c)), [], "codes no step reports");
});

Deno.test("docs/design.md lists EVENT_TYPES in their order", () => {
  const events = firstColumn("event-types");
  sameSet("event-types", EVENT_TYPES, events);
  assert.deepEqual(events, [...EVENT_TYPES], "event types out of the order of EVENT_TYPES");
});

Deno.test("docs/design.md lists every command of COMMANDS and the exit codes of EXIT", () => {
  const inCode = COMMANDS.map((c) => `saoe ${c.path.join(" ")}`);
  const rows = table("cli-commands");
  const inDoc = rows.map((row, i) => code(row[0], `cli-commands row ${i + 1}`));
  sameSet("cli-commands", inCode, inDoc);
  rows.forEach((row, i) => {
    const synopsis = code(row[1], `cli-commands row ${i + 1}`);
    assert.ok(
      synopsis === inDoc[i] || synopsis.startsWith(`${inDoc[i]} `),
      `the synopsis of ${inDoc[i]} does not start with the command: ${synopsis}`,
    );
  });
  const exits = table("exit-codes").map((row, i) =>
    [
      code(row[0], `exit-codes row ${i + 1}`),
      Number(row[1]),
    ] as const
  );
  sameSet("exit-codes", Object.keys(EXIT), exits.map(([name]) => name));
  for (const [name, value] of exits) assert.equal(value, EXIT[name as keyof typeof EXIT], name);
});

Deno.test("the doc check notices a missing and a stale entry", () => {
  const doc = [
    "<!-- design-doc-test: demo -->",
    "",
    "| code | meaning |",
    "| ---- | ------- |",
    "| `replay` | an id already claimed, with a \\| pipe |",
    "| `gone_code` | no longer in the code |",
  ].join("\n");
  const rows = markedTables(doc).get("demo")!;
  assert.deepEqual(rows[0], ["`replay`", "an id already claimed, with a | pipe"]);
  assert.throws(
    () => sameSet("demo", ["replay", "expired"], rows.map((r) => code(r[0], "demo"))),
    (err: unknown) =>
      err instanceof assert.AssertionError && /expired/.test(err.message) &&
      /gone_code/.test(err.message),
  );
});
