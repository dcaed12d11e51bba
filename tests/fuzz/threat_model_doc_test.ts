/**
 * `docs/threat-model.md` claims nothing without a test: every citation in it,
 * written `` `tests/…_test.ts` › "name" ``, must name an existing test file that
 * contains that test (or step) name, and each of the 13 attacks must cite one.
 */
import assert from "node:assert/strict";

const REPO = new URL("../../", import.meta.url);
const CITATION = /`(tests\/[\w/.-]+_test\.ts)` ›\s+"([^"]+)"/g;

/** Every citation of a markdown text: file and test name (line breaks folded). */
function citations(text: string): { file: string; name: string }[] {
  return [...text.matchAll(CITATION)].map((m) => ({
    file: m[1]!,
    name: m[2]!.replace(/\s*\n\s*/g, " "),
  }));
}

async function unresolved(text: string): Promise<string[]> {
  const missing: string[] = [];
  for (const { file, name } of citations(text)) {
    let source: string;
    try {
      source = await Deno.readTextFile(new URL(file, REPO));
    } catch {
      missing.push(`${file}: no such test file`);
      continue;
    }
    // a test name may be split over lines by the formatter: compare with whitespace folded
    if (!source.replace(/\s+/g, " ").includes(name)) missing.push(`${file}: no test "${name}"`);
  }
  return missing;
}

Deno.test("every test docs/threat-model.md cites exists under that name in that file", async () => {
  const text = await Deno.readTextFile(new URL("docs/threat-model.md", REPO));
  assert.ok(citations(text).length >= 60, "fewer citations than expected: is the format intact?");
  assert.deepEqual(await unresolved(text), []);
});

Deno.test("docs/threat-model.md cites at least one test for each of the 13 attacks", async () => {
  const text = await Deno.readTextFile(new URL("docs/threat-model.md", REPO));
  const sections = text.split(/\n### /).slice(1);
  const attacks = sections.filter((s) => /^\d+\. /.test(s));
  assert.equal(attacks.length, 13);
  for (const section of attacks) {
    assert.ok(citations(section).length > 0, `no test cited for: ${section.split("\n")[0]}`);
  }
});

Deno.test("the citation check notices a test name that does not exist", async () => {
  const fake = '`tests/fuzz/fuzz_test.ts` › "a test nobody wrote"\n' +
    '`tests/nowhere_test.ts` › "x"';
  assert.equal((await unresolved(fake)).length, 2);
});
