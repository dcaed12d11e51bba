import assert from "node:assert/strict";
import { checkCapsets, type Finding } from "../../../core/domain/capset/check.ts";
import type { Capset, CapsetSource } from "../../../core/domain/capset/types.ts";
import { homeLayout } from "../../../core/domain/home/layout.ts";
import {
  capsetOf,
  HOME,
  PIPELINE_TEMPLATES,
  PIPELINE_TOOLS,
  pipelineSources,
  source,
} from "./_fixtures.ts";

const home = homeLayout(HOME);

function check(capsets: Capset[], templates = PIPELINE_TEMPLATES): Finding[] {
  return checkCapsets({ capsets, templates, tools: PIPELINE_TOOLS, home });
}

/** The pipeline with one agent's source changed by `edit`. */
function pipelineWith(agent: string, edit: (s: CapsetSource) => CapsetSource): Capset[] {
  return pipelineSources().map((s) => capsetOf(s.agent === agent ? edit(s) : s));
}

Deno.test("checkCapsets() finds nothing wrong with the pipeline", () => {
  assert.deepEqual(check(pipelineSources().map(capsetOf)), []);
});

Deno.test("checkCapsets() reports a forbidden grant", () => {
  const capsets = pipelineWith("viewer", (s) => ({
    ...s,
    fs: { read: ["output"], write: ["audit"] },
  }));
  const findings = check(capsets);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.agent, "viewer");
  assert.equal(findings[0]!.reason, "forbidden_grant");
  assert.match(findings[0]!.detail, /audit/);
});

Deno.test("checkCapsets() reports two capsets for one agent", () => {
  const capsets = [...pipelineSources().map(capsetOf), capsetOf(source("viewer"))];
  assert.deepEqual(check(capsets).map((f) => [f.agent, f.reason]), [["viewer", "duplicate_agent"]]);
});

Deno.test("checkCapsets() reports an edge the receiver does not declare", () => {
  const capsets = pipelineWith("deployment", (s) => ({
    ...s,
    receives: s.receives.filter((r) => r.from !== "image_filter"),
  }));
  assert.deepEqual(check(capsets), [{
    agent: "image_filter",
    reason: "edge_not_received",
    detail:
      'edge image_filter -> deployment with template "filtered_image" is not in the receives of "deployment"',
  }]);
});

Deno.test("checkCapsets() reports an edge the sender does not declare", () => {
  const capsets = pipelineWith("text_formatter", (s) => ({ ...s, sends: [] }));
  assert.deepEqual(check(capsets), [{
    agent: "deployment",
    reason: "edge_not_sent",
    detail:
      'edge text_formatter -> deployment with template "formatted_text" is not in the sends of "text_formatter"',
  }]);
});

Deno.test("checkCapsets() reports an edge to an agent with no capset", () => {
  const capsets = pipelineWith("planner", (s) => ({
    ...s,
    sends: [...s.sends, { to: "ghost", templates: ["format_request"] }],
  }));
  assert.deepEqual(check(capsets).map((f) => [f.agent, f.reason]), [["planner", "unknown_peer"]]);
});

Deno.test("checkCapsets() reports an edge template missing from the agent's vault", () => {
  const capsets = pipelineWith("sanitization", (s) => ({
    ...s,
    vault: s.vault.filter((t) => t !== "article_sanitized"),
  }));
  const findings = check(capsets);
  assert.deepEqual(findings.map((f) => [f.agent, f.reason]), [[
    "sanitization",
    "template_not_in_vault",
  ]]);
  assert.match(findings[0]!.detail, /"article_sanitized"/);
});

Deno.test("checkCapsets() reports templates the vault does not hold", () => {
  const templates = new Set([...PIPELINE_TEMPLATES].filter((t) => t !== "image_request"));
  const findings = check(pipelineSources().map(capsetOf), templates);
  assert.deepEqual(findings.map((f) => [f.agent, f.reason]), [
    ["image_filter", "unknown_template"],
    ["image_filter", "unknown_template"],
    ["planner", "unknown_template"],
    ["planner", "unknown_template"],
  ]);
});

Deno.test("checkCapsets() reports a tool the tool manifest does not list", () => {
  const capsets = pipelineWith("text_formatter", (s) => ({
    ...s,
    tools: [...s.tools, { name: "shell_exec", allowed_args: {} }],
  }));
  const findings = check(capsets);
  assert.deepEqual(findings.map((f) => [f.agent, f.reason]), [["text_formatter", "unknown_tool"]]);
  assert.match(findings[0]!.detail, /"shell_exec"/);
});

const WRITER_READER = [
  capsetOf(source("writer", { sends: [{ to: "reader", templates: ["note"] }], vault: ["note"] })),
  capsetOf(
    source("reader", { receives: [{ from: "writer", templates: ["note"] }], vault: ["note"] }),
  ),
];

function checkPolicy(policy: { allowed_senders: string[]; allowed_receivers: string[] }) {
  return checkCapsets({
    capsets: WRITER_READER,
    templates: new Set(["note"]),
    tools: new Set(),
    home,
    policies: new Map([["note", policy]]),
  });
}

Deno.test("checkCapsets() accepts edges their template's policy allows", () => {
  assert.deepEqual(checkPolicy({ allowed_senders: ["writer"], allowed_receivers: ["reader"] }), []);
});

Deno.test("checkCapsets() reports an edge its template's policy refuses, once per end", () => {
  const findings = checkPolicy({ allowed_senders: ["reader"], allowed_receivers: ["writer"] });
  assert.deepEqual(findings.map((f) => [f.agent, f.reason, f.template]), [
    ["reader", "policy_contradiction", "note"],
    ["writer", "policy_contradiction", "note"],
  ]);
  assert.match(findings[0]!.detail, /allowed_receivers is \[writer\]/);
  assert.match(findings[1]!.detail, /allowed_senders is \[reader\]/);
});

Deno.test("checkCapsets() does not re-report edges to an agent whose capset did not verify", () => {
  const findings = checkCapsets({
    capsets: [WRITER_READER[0]!],
    templates: new Set(["note"]),
    tools: new Set(),
    home,
    unverifiable: new Set(["reader"]),
  });
  assert.deepEqual(findings, []);
  const without = checkCapsets({
    capsets: [WRITER_READER[0]!],
    templates: new Set(["note"]),
    tools: new Set(),
    home,
  });
  assert.deepEqual(without.map((f) => f.reason), ["unknown_peer"]);
});

Deno.test("checkCapsets() derives flags with the given tool modules and judges those grants too", () => {
  const capsets = [capsetOf(source("formatter", { tools: [{ name: "md", allowed_args: {} }] }))];
  const check = (module: string) =>
    checkCapsets({
      capsets,
      templates: new Set(),
      tools: new Set(["md"]),
      home,
      toolModules: { md: module },
    });
  assert.deepEqual(check("/opt/saoe/core/domain/toolgate/tools/md.ts"), []);
  // a "tool module" inside the key store would be a read grant on a secret
  const findings = check(`${HOME}/keys/md.ts`);
  assert.deepEqual(findings.map((f) => f.reason), ["forbidden_grant"]);
  assert.match(findings[0]!.detail, /key store/);
});
