/**
 * `saoe capset check`: every fixture of bad capset sources in
 * `tests/testdata/capsets_bad/` gives exactly its finding, the repository's own
 * `vault/` and a fresh home are clean, and in a home a capset edited without
 * re-signing, an expired one, one signed by a non-dispatcher key and a missing
 * one are each a finding with the right reason (and nothing else is reported).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkHome } from "../../core/services/capset_check/check_home.ts";
import { checkSources } from "../../core/services/capset_check/check_sources.ts";
import { signCapset } from "../../core/domain/capset/sign.ts";
import { decodeCapsetSource } from "../../core/domain/capset/types.ts";
import { SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import { fromBase64, toBase64 } from "../../core/primitives/crypto/bytes.ts";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { parseStrictJson } from "../../core/primitives/json/strict_parse.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { decryptWith, encryptTo, recipientOf } from "../../core/domain/vault/age.ts";
import { capsetPath, templateDir } from "../../core/domain/vault/layout.ts";
import { publishCapset, publishTemplate } from "../../core/domain/vault/publish.ts";
import { makeHome, REPO, runCli, type TestHome } from "./_fixtures.ts";

const BAD = join(REPO, "tests", "testdata", "capsets_bad");
const DAY_MS = 86_400_000;

/** Each fixture folder and the exact findings it must give (file relative to the folder). */
const BAD_CASES: Record<string, [file: string, agent: string, reason: string][]> = {
  forbidden_grant: [["capsets/reader.json", "reader", "forbidden_grant"]],
  decode_error: [["capsets/reader.json", "reader", "decode_error"]],
  edge_not_received: [["capsets/writer.json", "writer", "edge_not_received"]],
  edge_not_sent: [["capsets/reader.json", "reader", "edge_not_sent"]],
  unknown_template: [["capsets/writer.json", "writer", "unknown_template"]],
  unknown_tool: [["capsets/writer.json", "writer", "unknown_tool"]],
  template_not_in_vault: [["capsets/writer.json", "writer", "template_not_in_vault"]],
  policy_contradiction: [["templates/note.json", "writer", "policy_contradiction"]],
  duplicate_agent: [
    ["capsets/reader_copy.json", "reader", "duplicate_agent"],
    ["capsets/reader_copy.json", "reader", "name_mismatch"],
  ],
};

interface JsonFinding {
  file: string;
  agent: string;
  reason: string;
  detail: string;
}

Deno.test("saoe capset check --sources gives exactly its finding for each bad fixture", async () => {
  const folders = (await Array.fromAsync(Deno.readDir(BAD)))
    .filter((e) => e.isDirectory).map((e) => e.name).sort();
  // every fixture on disk has an expectation, and every expectation a fixture
  assert.deepEqual(folders, Object.keys(BAD_CASES).sort());
  const results = await Promise.all(folders.map(async (name) => {
    const dir = join("tests", "testdata", "capsets_bad", name);
    return { name, dir, r: await runCli(["capset", "check", "--sources", dir, "--json"]) };
  }));
  for (const { name, dir, r } of results) {
    assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
    const report = JSON.parse(r.stdout) as { ok: boolean; findings: JsonFinding[] };
    assert.equal(report.ok, false, name);
    assert.deepEqual(
      report.findings.map((f) => [f.file, f.agent, f.reason]),
      BAD_CASES[name]!.map(([file, agent, reason]) => [join(dir, file), agent, reason]),
      name,
    );
    for (const f of report.findings) assert.ok(f.detail.length > 0, `${name}: empty detail`);
  }
});

Deno.test("saoe capset check prints one file: agent: reason: detail line per finding and a summary", async () => {
  const dir = join("tests", "testdata", "capsets_bad", "forbidden_grant");
  const r = await runCli(["capset", "check", "--sources", dir]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2, r.stdout);
  assert.match(
    lines[0]!,
    /^tests\/testdata\/capsets_bad\/forbidden_grant\/capsets\/reader\.json: reader: forbidden_grant: .*fs\.write names audit/,
  );
  assert.match(lines[1]!, /^capset check: 1 finding in /);
});

Deno.test("checkSources() names the decode failure of fs.read keys and the key store it asks for", async () => {
  const report = await checkSources({ dir: join(BAD, "decode_error"), repo: REPO });
  assert.equal(report.findings.length, 1);
  assert.equal(report.findings[0]!.file, join(BAD, "decode_error", "capsets", "reader.json"));
  assert.match(report.findings[0]!.detail, /\$\.fs\.read\[0\]/);
});

/** How many capset and template sources the repository's vault/ holds. */
async function repoSourceCounts(): Promise<{ capsets: number; templates: number }> {
  const count = async (kind: string) =>
    (await Array.fromAsync(Deno.readDir(join(REPO, "vault", kind))))
      .filter((e) => e.name.endsWith(".json")).length;
  return { capsets: await count("capsets"), templates: await count("templates") };
}

Deno.test("saoe capset check --sources vault/ passes on the repository's own sources", async () => {
  const counts = await repoSourceCounts();
  assert.ok(counts.capsets >= 6 && counts.templates >= 6);
  const r = await runCli(["capset", "check", "--sources", "vault/"]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(
    r.stdout,
    `capset check: ok: ${counts.capsets} capability sets and ${counts.templates} templates in vault/ (sources), no findings\n`,
  );
  const json = await runCli(["capset", "check", "--sources", "vault/", "--json"]);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), { ok: true, findings: [], checked: counts });
});

Deno.test("saoe capset check needs exactly one of --sources and --home", async () => {
  const neither = await runCli(["capset", "check"]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /Missing what to check/);
  const both = await runCli(["capset", "check", "--sources", "vault/", "--home", "/tmp/x"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);
});

Deno.test("saoe capset check --sources reports a missing folder as a finding, not a crash", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runCli(["capset", "check", "--sources", dir, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { findings: JsonFinding[] };
    assert.deepEqual(report.findings.map((f) => [f.file, f.reason]), [
      [join(dir, "capsets"), "missing_file"],
      [join(dir, "templates"), "missing_file"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function repoSource(agent: string) {
  const bytes = await Deno.readFile(join(REPO, "vault", "capsets", `${agent}.json`));
  return decodeCapsetSource(parseStrictJson(bytes, { maxBytes: 1024 * 1024 }), "$");
}

/** Re-encrypts a capset to the supervisor after changing its payload, signatures kept. */
async function tamper(t: TestHome, agent: string, supervisorIdentity: string): Promise<void> {
  const path = capsetPath(t.home.vault, agent);
  const dsse = JSON.parse(
    new TextDecoder().decode(await decryptWith(supervisorIdentity, await Deno.readFile(path))),
  );
  const payload = JSON.parse(new TextDecoder().decode(fromBase64(dsse.payload)));
  payload.net = ["127.0.0.1:9999"];
  dsse.payload = toBase64(new TextEncoder().encode(JSON.stringify(payload)));
  const cipher = await encryptTo(
    [await recipientOf(supervisorIdentity)],
    new TextEncoder().encode(JSON.stringify(dsse)),
  );
  await Deno.writeFile(path, cipher);
}

Deno.test("saoe capset check --home is clean on a fresh home and finds forged, expired, edited and missing capsets and a contradicting policy", async () => {
  const t = await makeHome("saoe-capset-check-");
  try {
    const clean = await runCli(["capset", "check", "--home", t.root, "--json"]);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    const cleanReport = JSON.parse(clean.stdout);
    assert.deepEqual(cleanReport.findings, []);
    assert.equal(cleanReport.checked.capsets, t.config.agents.length);
    assert.ok(cleanReport.checked.templates >= 6);

    const keys = await openKeyStore(t.home.keys);
    const supervisor = await keys.loadAgent(SUPERVISOR_ID);
    const supervisorRecipient = await recipientOf(supervisor.ageIdentity);
    const dispatchers = await Promise.all(
      (await keys.loadDispatchers()).map((seed) => SigningKey.fromSeed(seed)),
    );
    const now = Date.now();

    // planner: payload edited (a listen port added) and re-encrypted, not re-signed
    await tamper(t, "planner", supervisor.ageIdentity);
    // deployment: properly signed by the dispatcher, but its window ended yesterday
    await publishCapset({
      vault: t.home.vault,
      agent: "deployment",
      signedCapsetBytes: await signCapset({
        source: await repoSource("deployment"),
        signers: dispatchers,
        issuedAt: now - 10 * DAY_MS,
        validForMs: 9 * DAY_MS,
      }),
      recipients: [supervisorRecipient],
    });
    // sanitization: a well-formed capset signed by a key that is not the dispatcher's
    await publishCapset({
      vault: t.home.vault,
      agent: "sanitization",
      signedCapsetBytes: await signCapset({
        source: await repoSource("sanitization"),
        signers: [await SigningKey.fromSeed(generateSeed())],
        issuedAt: now,
        validForMs: DAY_MS,
      }),
      recipients: [supervisorRecipient],
    });
    // image_filter: gone
    await Deno.remove(capsetPath(t.home.vault, "image_filter"));
    // text_format_plan v2: properly published, but its policy refuses planner -> text_formatter
    const plan = JSON.parse(
      await Deno.readTextFile(join(REPO, "vault", "templates", "text_format_plan.json")),
    );
    plan.version = 2;
    plan.policy.allowed_receivers = ["deployment"];
    await publishTemplate({
      vault: t.home.vault,
      templateBytes: new TextEncoder().encode(JSON.stringify(plan)),
      recipients: [await recipientOf((await keys.loadAgent("text_formatter")).ageIdentity)],
      signers: dispatchers,
      issuedAt: now,
      validForMs: DAY_MS,
    });

    const r = await runCli(["capset", "check", "--home", t.root, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; findings: JsonFinding[] };
    const real = await Deno.realPath(t.home.vault);
    // exactly one finding per broken file: peers' edges to them are not re-reported
    assert.deepEqual(report.findings.map((f) => [f.file, f.agent, f.reason]), [
      [capsetPath(real, "deployment"), "deployment", "expired"],
      [capsetPath(real, "image_filter"), "image_filter", "missing_file"],
      [capsetPath(real, "planner"), "planner", "capset_signature"],
      [capsetPath(real, "sanitization"), "sanitization", "capset_signature"],
      [templateDir(real, "text_format_plan"), "text_formatter", "policy_contradiction"],
    ]);

    const text = await runCli(["capset", "check", "--home", t.root]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /\/capsets\/deployment\.age: deployment: expired: /);
    assert.match(text.stdout, /capset check: 5 findings in /);
  } finally {
    await t.cleanup();
  }
});

Deno.test("checkHome() reports a home without config.json as a finding", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const report = await checkHome({ home: dir, repo: REPO, clock: systemClock });
    assert.equal(report.ok, false);
    assert.deepEqual(report.findings.map((f) => f.reason), ["bad_config"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
