import assert from "node:assert/strict";
import { capsetPermissions } from "../../../core/domain/capset/permissions.ts";
import { pathGrantProblem } from "../../../core/domain/capset/_grant_check.ts";
import type { Capset } from "../../../core/domain/capset/types.ts";
import { type HomeLayout, homeLayout } from "../../../core/domain/home/layout.ts";
import { capsetOf, expectCode, GRANT_TABLE, HOME, pipelineSources, source } from "./_fixtures.ts";

const home = homeLayout(HOME);
const pipeline = new Map(pipelineSources().map((s) => [s.agent, capsetOf(s)]));

for (const row of GRANT_TABLE) {
  Deno.test(`capsetPermissions() gives ${row.agent} exactly its table flags`, () => {
    const { flags } = capsetPermissions(pipeline.get(row.agent)!, home);
    assert.deepEqual(flags, row.flags);
  });
}

Deno.test("capsetPermissions() names the capset field behind each grant", () => {
  const { grants } = capsetPermissions(pipeline.get("intake")!, home);
  const sources = (value: string) => grants.filter((g) => g.value === value).map((g) => g.source);
  assert.deepEqual(sources(`${HOME}/agents/sanitization/inbox/intake`), [
    "sends[0].to=sanitization",
    "sends[0].to=sanitization",
  ]);
  assert.deepEqual(sources(`${HOME}/uploads`), ["fs.write[0]=uploads", "fs.write[0]=uploads"]);
  assert.deepEqual(sources(`${HOME}/vault/templates/article_submission`), [
    "vault[0]=article_submission",
  ]);
  assert.deepEqual(sources("127.0.0.1:8090"), ["net[0]=127.0.0.1:8090"]);
  assert.ok(grants.some((g) =>
    g.flag === "allow-read" && g.value === `${HOME}/agents/intake` &&
    g.source === "identity"
  ));
  assert.ok(grants.some((g) => g.flag === "deny-run" && g.source === "default-deny"));
});

Deno.test("capsetPermissions() is deterministic whatever the order of the capset's lists", () => {
  const deployment = pipeline.get("deployment")!;
  const shuffled: Capset = {
    ...deployment,
    receives: [...deployment.receives].reverse(),
    vault: [...deployment.vault].reverse(),
    fs: { read: ["media", "media"], write: ["output"] },
  };
  assert.deepEqual(
    capsetPermissions(shuffled, home).flags,
    capsetPermissions(deployment, home).flags,
  );
});

Deno.test("capsetPermissions() lets toolgateHost override whether worker options are enabled", () => {
  const viewer = pipeline.get("viewer")!;
  assert.equal(
    capsetPermissions(viewer, home, { toolgateHost: true }).flags[0],
    "--unstable-worker-options",
  );
  const formatter = pipeline.get("text_formatter")!;
  const flags = capsetPermissions(formatter, home, { toolgateHost: false }).flags;
  assert.ok(!flags.includes("--unstable-worker-options"));
});

// hostile capsets, built as objects so the decoder cannot stop them first
const HOSTILE: { name: string; capset: Capset; mentions: RegExp }[] = [
  ["fs.write ../keys", { fs: { read: [], write: ["../keys"] } }, /fs\.write\[0\] "\.\.\/keys"/],
  ["fs.read keys", { fs: { read: ["keys"], write: [] } }, /"keys"/],
  ["fs.write audit", { fs: { read: [], write: ["audit"] } }, /audit/],
  ["fs.read vault", { fs: { read: ["vault"], write: [] } }, /"vault"/],
  ["fs.write trust", { fs: { read: [], write: ["trust"] } }, /"trust"/],
  ["fs.read config.json", { fs: { read: ["config.json"], write: [] } }, /config\.json/],
  ["fs.read not a list", { fs: { read: "uploads", write: [] } }, /fs\.read is not a list/],
  ["fs missing", { fs: null }, /fs is not an object/],
  ["sends to ..", { sends: [{ to: "..", templates: [] }] }, /sends\[0\]\.to "\.\."/],
  ["sends to a path", { sends: [{ to: "planner/../../keys", templates: [] }] }, /sends\[0\]\.to/],
  ["sends to a name with a newline", { sends: [{ to: "planner\n", templates: [] }] }, /sends/],
  ["receives from ../keys", { receives: [{ from: "../keys", templates: [] }] }, /receives\[0\]/],
  ["vault entry ../../keys", { vault: ["../../keys"] }, /vault\[0\]/],
  ["vault entry with NUL", { vault: ["a\u0000b"] }, /vault\[0\]/],
  ["agent ..", { agent: ".." }, /agent "\.\."/],
  ["agent with a comma", { agent: "planner,/etc" }, /agent/],
  ["net on all interfaces", { net: ["0.0.0.0:8080"] }, /net\[0\] "0\.0\.0\.0:8080"/],
  ["net on localhost name", { net: ["localhost:8080"] }, /net\[0\]/],
  ["net port out of range", { net: ["127.0.0.1:99999"] }, /port outside/],
  ["net smuggling a second host", { net: ["127.0.0.1:8080,0.0.0.0:22"] }, /net\[0\]/],
  ["net with no port", { net: ["127.0.0.1"] }, /net\[0\]/],
].map(([name, fields, mentions]) => ({
  name: name as string,
  capset: { ...capsetOf(source("intruder")), ...(fields as object) } as unknown as Capset,
  mentions: mentions as RegExp,
}));

for (const row of HOSTILE) {
  Deno.test(`capsetPermissions() refuses a capset with ${row.name}`, async () => {
    const message = await expectCode(() => capsetPermissions(row.capset, home), "forbidden_grant");
    assert.match(message, row.mentions);
    assert.match(message, /^Cannot grant permissions to agent /);
  });
}

const HOSTILE_HOMES: { name: string; home: HomeLayout }[] = [
  { name: "a vault pointed outside the home", home: { ...home, vault: "/etc" } },
  { name: "an agent tree pointed at the key store", home: { ...home, agents: `${HOME}/keys` } },
  { name: "a root with a comma", home: homeLayout("/tmp/a,/etc") },
  { name: "a relative root", home: { ...home, root: "srv/saoe" } },
  { name: "a root with a newline", home: homeLayout("/srv/saoe\n") },
];

for (const row of HOSTILE_HOMES) {
  Deno.test(`capsetPermissions() refuses a home layout with ${row.name}`, async () => {
    await expectCode(
      () => capsetPermissions(pipeline.get("planner")!, row.home),
      "forbidden_grant",
    );
  });
}

Deno.test("capsetPermissions() grants 127.0.0.1:0 as exactly one port the system assigns", () => {
  const viewer = { ...pipeline.get("viewer")!, net: ["127.0.0.1:0"] };
  const { flags, grants } = capsetPermissions(viewer, home);
  assert.ok(flags.includes("--allow-net=127.0.0.1:0"), flags.join(" "));
  assert.ok(grants.some((g) => g.flag === "allow-net" && g.source === "net[0]=127.0.0.1:0"));
});

Deno.test("pathGrantProblem() classifies by path segments, not string prefixes", () => {
  const ctx = {
    root: HOME,
    agent: "intake",
    vaultTemplates: new Set(["article_submission"]),
    capsetReaders: new Set(["intake", "sanitization"]),
    hasTools: false,
  };
  const ok = (path: string, access: "read" | "write") =>
    assert.equal(pathGrantProblem(path, access, ctx), undefined, `${access} ${path}`);
  const refused = (path: string, access: "read" | "write") =>
    assert.notEqual(pathGrantProblem(path, access, ctx), undefined, `${access} ${path}`);
  ok(`${HOME}/agents/intake/inbox`, "write");
  ok(`${HOME}/agents/sanitization/inbox/intake`, "write");
  ok(`${HOME}/agents/intake/store`, "write");
  ok(`${HOME}/vault/templates/article_submission`, "read");
  ok(`${HOME}/vault/capsets/sanitization.age`, "read");
  ok(`${HOME}/trust`, "read");
  ok(`${HOME}/audit`, "read");
  refused(`${HOME}2/uploads`, "read"); // a sibling whose name starts like the home
  refused(`${HOME}/vault2`, "read");
  refused(`${HOME}/vault`, "read");
  refused(`${HOME}/vault/templates`, "read");
  refused(`${HOME}/vault/templates/format_request`, "read");
  refused(`${HOME}/vault/capsets/planner.age`, "read");
  refused(`${HOME}/vault/tools.manifest.json`, "read");
  refused(`${HOME}/vault/templates/article_submission`, "write");
  refused(`${HOME}/trust`, "write");
  refused(`${HOME}/audit/ledger.db`, "write");
  refused(`${HOME}/keys/intake.age`, "read");
  refused(`${HOME}/config.json`, "read");
  refused(HOME, "read");
  refused("/srv", "read");
  refused("/", "read");
  refused(`${HOME}/queues`, "read");
  refused(`${HOME}/agents/sanitization/inbox/intake/deeper`, "write");
  refused(`${HOME}/agents/sanitization/store/intake`, "write");
  refused(`${HOME}/agents/sanitization/inbox`, "read");
  refused(`${HOME}/agents/sanitization/inbox/planner`, "write");
  refused(`${HOME}/agents/intakes/inbox`, "read");
  refused(`${HOME}/agents`, "read");
  refused(`${HOME}/agents/planner`, "read");
  refused(`${HOME}/agents/intake_x`, "read");
  refused(`${HOME}/uploads/../keys`, "read");
  refused(`${HOME}/uploads/`, "read");
  refused(`${HOME}/up,loads`, "read");
  refused(`${HOME}/elsewhere`, "read");
});

Deno.test("pathGrantProblem() never grants the supervisor's state (its operator requests), not even to an agent so named", () => {
  for (const agent of ["intake", "supervisor"]) {
    const ctx = {
      root: HOME,
      agent,
      vaultTemplates: new Set<string>(),
      capsetReaders: new Set([agent]),
      hasTools: false,
    };
    for (const path of [`${HOME}/agents/supervisor`, `${HOME}/agents/supervisor/requests`]) {
      for (const access of ["read", "write"] as const) {
        assert.match(
          pathGrantProblem(path, access, ctx) ?? "granted",
          /the supervisor's private state/,
          `${agent}: ${access} ${path}`,
        );
      }
    }
  }
});

// ---- property: randomised valid capsets never yield a forbidden flag or path

function prng(seed: number): () => number {
  // mulberry32: small, seeded, reproducible
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// valid agent ids that look like home folders are the interesting ones
const AGENTS = [
  "intake",
  "planner",
  "keys",
  "vault",
  "queues",
  "agents",
  "trust",
  "audit",
  "a",
  "x_1",
];
const TEMPLATES = ["t", "keys", "templates", "capsets", "article_submission", "a_b_c"];
const ROOTS = ["uploads", "media", "output", "audit"] as const;

function randomCapset(rand: () => number): Capset {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const some = <T>(items: readonly T[], max: number): T[] =>
    Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(items));
  const edges = () => some(AGENTS, 3).map((peer) => ({ peer, templates: some(TEMPLATES, 2) }));
  return capsetOf(source(pick(AGENTS), {
    receives: edges().map((e) => ({ from: e.peer, templates: e.templates })),
    sends: edges().map((e) => ({ to: e.peer, templates: e.templates })),
    tools: rand() < 0.3 ? [{ name: pick(TEMPLATES), allowed_args: {} }] : [],
    vault: some(TEMPLATES, 4),
    fs: { read: some(ROOTS, 3), write: some(ROOTS.filter((r) => r !== "audit"), 2) },
    net: some([1, 80, 8080, 8090, 65535], 2).map((p) => `127.0.0.1:${p}`),
  }));
}

function segments(path: string): string[] {
  assert.ok(path.startsWith(`${HOME}/`), `${path} is inside the home`);
  return path.slice(HOME.length + 1).split("/");
}

Deno.test("capsetPermissions() never emits a forbidden flag or path for a few hundred random capsets", () => {
  const rand = prng(0x5a0e);
  const forbiddenFlags =
    /^(-A|--allow-all|--allow-run|--allow-ffi|--allow-sys|--allow-env|--allow-import|--allow-hrtime)/;
  for (let i = 0; i < 400; i++) {
    const capset = randomCapset(rand);
    const me = capset.agent;
    const { flags } = capsetPermissions(capset, home);
    for (const flag of flags) assert.doesNotMatch(flag, forbiddenFlags);
    for (const denied of ["--deny-env", "--deny-run", "--deny-ffi", "--deny-sys"]) {
      assert.ok(flags.includes(denied), `${me} gets ${denied}`);
    }
    const net = flags.filter((f) => f.startsWith("--allow-net=") || f === "--deny-net");
    assert.equal(net.length, 1);
    for (const address of net[0]!.replace("--allow-net=", "").split(",")) {
      if (net[0] !== "--deny-net") assert.match(address, /^127\.0\.0\.1:\d+$/);
    }
    for (const flag of flags.filter((f) => /^--allow-(read|write)=/.test(f))) {
      const write = flag.startsWith("--allow-write=");
      for (const path of flag.slice(flag.indexOf("=") + 1).split(",")) {
        const [top, a, b, c] = segments(path);
        assert.ok(!["keys", "config.json", undefined].includes(top), `${me}: ${path}`);
        if (write) assert.ok(!["vault", "trust", "audit"].includes(top!), `${me} writes ${path}`);
        assert.notEqual(top, "queues", `${me}: ${path}`);
        // its own folder, or exactly its own subfolder of a peer's inbox
        if (top === "agents") {
          assert.ok(a === me || (b === "inbox" && c === me), `${me}: ${path}`);
        }
        if (top === "vault") {
          assert.ok(
            (a === "templates" && capset.vault.includes(b!)) ||
              (a === "capsets" && b !== undefined) || a === "tools.manifest.json",
            `${me}: ${path}`,
          );
        }
      }
    }
  }
});

Deno.test("capsetPermissions() refuses random valid capsets with one hostile value injected", async () => {
  const rand = prng(0xbad);
  const injections: ((c: Capset) => void)[] = [
    (c) => c.fs.write.push("audit"),
    (c) => c.fs.read.push("keys" as "audit"),
    (c) => c.sends.push({ to: "../x", templates: [] }),
    (c) => c.receives.push({ from: "a/b", templates: [] }),
    (c) => c.vault.push(".."),
    (c) => c.net.push("10.0.0.1:80"),
  ];
  for (let i = 0; i < 120; i++) {
    const capset = randomCapset(rand);
    injections[i % injections.length]!(capset);
    await expectCode(() => capsetPermissions(capset, home), "forbidden_grant");
  }
});

Deno.test("capsetPermissions() grants read on exactly the signed tool modules of the capset's tools", () => {
  const home = homeLayout("/srv/saoe");
  const capset = capsetOf(pipelineSources().find((c) => c.agent === "text_formatter")!);
  const module = "/opt/saoe/core/domain/toolgate/tools/markdown_to_html.ts";
  const { flags, grants } = capsetPermissions(capset, home, {
    toolModules: {
      markdown_to_html: module,
      image_sanitize: "/opt/saoe/core/domain/toolgate/tools/image_sanitize.ts",
    },
  });
  const read = flags.find((f) => f.startsWith("--allow-read="))!.slice("--allow-read=".length)
    .split(",");
  assert.ok(read.includes(module));
  assert.ok(!read.some((p) => p.endsWith("image_sanitize.ts")), "a tool the capset does not name");
  assert.ok(grants.some((g) => g.value === module && g.source === "tools[0]=markdown_to_html"));
});

Deno.test("capsetPermissions() refuses a tool module path that is not a .ts file or is an ancestor of the home", async () => {
  const home = homeLayout("/srv/saoe");
  const capset = capsetOf(pipelineSources().find((c) => c.agent === "text_formatter")!);
  for (const bad of ["/etc/shadow", "/srv", "/"]) {
    await expectCode(
      () => capsetPermissions(capset, home, { toolModules: { markdown_to_html: bad } }),
      "forbidden_grant",
    );
  }
});
