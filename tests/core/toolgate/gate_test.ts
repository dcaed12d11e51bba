import assert from "node:assert/strict";
import { join } from "node:path";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { createToolGate, type ToolGateEvent } from "../../../core/domain/toolgate/gate.ts";
import { MemoryUsedPlans } from "../../../core/domain/toolgate/used_plans_memory.ts";
import { craftedPngHeader, decodeJpeg, jpegMarkers, makePng } from "./_images.ts";
import {
  binding,
  clock,
  expectCode,
  forbidWorkers,
  makeWorld,
  plan,
  runHost,
  type World,
} from "./_fixtures.ts";

const md = (text: string) => new TextEncoder().encode(text);

/** A gate in this process, with Worker construction forbidden: refusals must start none. */
function refusingGate(world: World, used = new MemoryUsedPlans()) {
  const events: ToolGateEvent[] = [];
  const gate = createToolGate({
    agent: "text_formatter",
    capset: world.capset,
    manifest: world.manifest,
    repoRoot: world.root,
    plannerKeys: world.plannerKeys,
    clock,
    skewMs: 0,
    usedPlans: used,
    onEvent: (event) => void events.push(event),
  });
  return { gate, events, used };
}

async function refused(
  world: World,
  request: Parameters<ReturnType<typeof createToolGate>["execute"]>[0],
  code: string,
  used = new MemoryUsedPlans(),
): Promise<Extract<ToolGateEvent, { type: "plan_rejected" }>> {
  const { gate, events } = refusingGate(world, used);
  const workers = forbidWorkers();
  try {
    await expectCode(gate.execute(request), code);
  } finally {
    workers.restore();
  }
  assert.equal(workers.count(), 0, "no tool worker may start for a refused plan");
  assert.equal(events.length, 1);
  const event = events[0]!;
  assert.equal(event.type, "plan_rejected");
  assert.equal(event.reason, code);
  return event;
}

Deno.test("ToolGate runs a valid plan's calls in no-permission workers and audits each", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [
    { id: "text", tool: "markdown_to_html", args: {} },
    { id: "img", tool: "image_sanitize", args: { format: "jpeg", resize_max: 64 } },
  ]);
  const png = makePng(200, 100, (x) => [x < 100 ? 255 : 0, 0, 0, x < 100 ? 255 : 0]);
  const report = await runHost(world, [{
    plan: planBytes,
    bound,
    inputs: { text: md("# Title\n\n<script>alert(1)</script>"), img: png },
  }]);
  const result = report.results[0]!;
  assert.ok(result.ok, JSON.stringify(result));
  const html = new TextDecoder().decode(Uint8Array.fromBase64(result.outputs.text!.bytes));
  assert.equal(html, "<h1>Title</h1>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
  const img = result.outputs.img!;
  assert.deepEqual([img.media_type, img.width, img.height], ["image/jpeg", 64, 32]);
  const bytes = Uint8Array.fromBase64(img.bytes);
  assert.ok(!jpegMarkers(bytes).includes(0xe1));
  // transparent right half is flattened onto white
  const decoded = decodeJpeg(bytes);
  const right = (16 * 64 + 60) * 4;
  assert.ok(decoded.data[right]! > 240 && decoded.data[right + 2]! > 240);
  // one worker per tool; each answered and stays warm for its tool's next call
  assert.equal(report.spawned, 2);
  assert.deepEqual(
    report.events.map((e) => [e.type, e.tool, e.agent, e.session_id, e.envelope_id]),
    [
      [
        "tool_executed",
        "markdown_to_html",
        "text_formatter",
        bound.session_id,
        bound.envelope_id,
      ],
      ["tool_executed", "image_sanitize", "text_formatter", bound.session_id, bound.envelope_id],
    ],
  );
});

Deno.test("ToolGate's tool workers cannot read files, write, use the network, run or read env", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "p", tool: "probe", args: {} }]);
  const report = await runHost(world, [{
    plan: planBytes,
    bound,
    inputs: { p: new Uint8Array() },
  }]);
  const result = report.results[0]!;
  assert.ok(result.ok, JSON.stringify(result));
  const probe = JSON.parse(
    new TextDecoder().decode(Uint8Array.fromBase64(result.outputs.p!.bytes)),
  );
  assert.deepEqual(probe, {
    read_file: "NotCapable",
    read_repo: "NotCapable",
    write_file: "NotCapable",
    fetch: "NotCapable",
    connect: "NotCapable",
    env: "NotCapable",
    run: "NotCapable",
  });
});

Deno.test("ToolGate runs a plan at most once: the replay is refused and starts no worker", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  const run = { plan: planBytes, bound, inputs: { t: md("hello") } };
  const report = await runHost(world, [run, run]);
  assert.equal(report.results[0]!.ok, true);
  assert.deepEqual(report.results[1], {
    ok: false,
    code: "replay",
    message: report.results[1]!.ok ? "" : report.results[1]!.message,
  });
  // the call's worker (kept warm); the replay was refused before reaching it
  assert.equal(report.spawned, 1);
  assert.deepEqual(report.events.map((e) => [e.type, e.reason]), [
    ["tool_executed", undefined],
    ["plan_rejected", "replay"],
  ]);
});

Deno.test("ToolGate stops a tool at its time limit and then refuses every plan", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "s", tool: "slow", args: {} }]);
  const next = binding();
  const nextPlan = await plan(world, next, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  const started = performance.now();
  const report = await runHost(world, [
    { plan: planBytes, bound, inputs: { s: new Uint8Array() } },
    { plan: nextPlan, bound: next, inputs: { t: md("x") } },
  ]);
  const result = report.results[0]!;
  assert.ok(!result.ok);
  assert.equal(result.code, "tool_timeout");
  assert.match(result.message, /did not finish within 1500 ms and was terminated/);
  assert.ok(performance.now() - started < 20_000);
  // the spinning thread cannot be killed in-process: the gate fails closed until restart
  assert.equal(report.stopped, true);
  const after = report.results[1]!;
  assert.ok(!after.ok);
  assert.match(after.message, /earlier tool timed out/);
  assert.equal(report.spawned, 1);
  assert.deepEqual(report.events.map((e) => [e.type, e.reason]), [
    ["plan_rejected", "tool_timeout"],
    ["plan_rejected", "handler_error"],
  ]);
});

Deno.test("ToolGate refuses a decompression bomb inside the worker before decoding it", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [
    { id: "i", tool: "image_sanitize", args: { format: "png", resize_max: 512 } },
  ]);
  const bomb = craftedPngHeader(20000, 20000);
  const report = await runHost(world, [{ plan: planBytes, bound, inputs: { i: bomb } }]);
  const result = report.results[0]!;
  assert.ok(!result.ok);
  assert.equal(result.code, "handler_error");
  assert.match(result.message, /header declares 20000x20000/);
});

Deno.test("ToolGate refuses a plan signed by a key that is not the planner's", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const forger = await SigningKey.fromSeed(generateSeed());
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }], {
    signer: forger,
  });
  await refused(world, {
    planBytes,
    sessionId: bound.session_id,
    envelopeId: bound.envelope_id,
    inputs: new Map([["t", md("x")]]),
  }, "bad_signature");
});

Deno.test("ToolGate refuses a planner-signed plan whose issuer is not the planner", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }], {
    issuer: "intake",
  });
  await refused(world, {
    planBytes,
    sessionId: bound.session_id,
    envelopeId: bound.envelope_id,
    inputs: new Map([["t", md("x")]]),
  }, "sender_not_allowed");
});

Deno.test("ToolGate refuses a plan bound to another session or another envelope", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  const inputs = new Map([["t", md("x")]]);
  const other = binding();
  const used = new MemoryUsedPlans();
  await refused(
    world,
    {
      planBytes,
      sessionId: other.session_id,
      envelopeId: bound.envelope_id,
      inputs,
    },
    "plan_binding",
    used,
  );
  await refused(
    world,
    {
      planBytes,
      sessionId: bound.session_id,
      envelopeId: other.envelope_id,
      inputs,
    },
    "plan_binding",
    used,
  );
  assert.equal(used.size, 0, "a refused plan must not be claimed");
});

Deno.test("ToolGate runs nothing when one call of a plan names an unregistered tool", async () => {
  await using world = await makeWorld();
  const bound = binding();
  // granted by the capset but absent from the signed manifest
  world.capset.tools.push({ name: "shell", allowed_args: {} });
  const planBytes = await plan(world, bound, [
    { id: "ok", tool: "markdown_to_html", args: {} },
    { id: "bad", tool: "shell", args: {} },
  ]);
  const used = new MemoryUsedPlans();
  const event = await refused(
    world,
    {
      planBytes,
      sessionId: bound.session_id,
      envelopeId: bound.envelope_id,
      inputs: new Map([["ok", md("x")], ["bad", md("y")]]),
    },
    "tool_not_allowed",
    used,
  );
  assert.match(event.message, /shell is not in the signed tool manifest/);
  assert.ok(event.plan_id !== undefined, "a refusal after verification names the plan");
  assert.equal(used.size, 0);
});

Deno.test("ToolGate refuses a tool the agent's capability set does not grant", async () => {
  await using world = await makeWorld();
  const bound = binding();
  world.capset.tools = world.capset.tools.filter((t) => t.name !== "image_sanitize");
  const planBytes = await plan(world, bound, [
    { id: "i", tool: "image_sanitize", args: { format: "png", resize_max: 64 } },
  ]);
  const event = await refused(world, {
    planBytes,
    sessionId: bound.session_id,
    envelopeId: bound.envelope_id,
    inputs: new Map([["i", new Uint8Array(1)]]),
  }, "tool_not_allowed");
  assert.match(event.message, /not granted to text_formatter/);
});

Deno.test("ToolGate refuses args outside the capset's allowed_args or the tool's schema", async () => {
  await using world = await makeWorld();
  const cases: [Record<string, unknown>, string][] = [
    [{ format: "png", resize_max: 4096 }, "tool_not_allowed"], // schema allows 16384, capset 2048
    [{ format: "png", resize_max: 8 }, "schema"], // below the schema's minimum of 16
    [{ format: "gif", resize_max: 64 }, "schema"],
    [{ format: "png", resize_max: 64, quality: 100 }, "schema"],
  ];
  for (const [args, code] of cases) {
    const bound = binding();
    const planBytes = await plan(world, bound, [
      { id: "i", tool: "image_sanitize", args: args as Record<string, never> },
    ]);
    await refused(world, {
      planBytes,
      sessionId: bound.session_id,
      envelopeId: bound.envelope_id,
      inputs: new Map([["i", new Uint8Array(1)]]),
    }, code);
  }
  // the capset narrows an enum the schema allows
  world.capset.tools = world.capset.tools.map((t) =>
    t.name === "image_sanitize"
      ? { ...t, allowed_args: { format: { enum: ["jpeg"] }, resize_max: { max: 2048 } } }
      : t
  );
  const bound = binding();
  const planBytes = await plan(world, bound, [
    { id: "i", tool: "image_sanitize", args: { format: "png", resize_max: 64 } },
  ]);
  await refused(world, {
    planBytes,
    sessionId: bound.session_id,
    envelopeId: bound.envelope_id,
    inputs: new Map([["i", new Uint8Array(1)]]),
  }, "tool_not_allowed");
});

Deno.test("ToolGate refuses at load a tool module modified after the manifest was signed", async () => {
  await using world = await makeWorld();
  const module = join(world.root, "core/domain/toolgate/tools/markdown_to_html.ts");
  const original = await Deno.readTextFile(module);
  await Deno.writeTextFile(module, original.replace("html: false", "html: true"));
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  const used = new MemoryUsedPlans();
  await refused(
    world,
    {
      planBytes,
      sessionId: bound.session_id,
      envelopeId: bound.envelope_id,
      inputs: new Map([["t", md("x")]]),
    },
    "tool_hash_mismatch",
    used,
  );
  assert.equal(used.size, 0);
});

Deno.test("ToolGate refuses a tool module reached through a symlink", async () => {
  await using world = await makeWorld();
  const module = join(world.root, "core/domain/toolgate/tools/markdown_to_html.ts");
  const elsewhere = join(world.root, "outside.ts");
  await Deno.rename(module, elsewhere);
  await Deno.symlink(elsewhere, module);
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  await refused(world, {
    planBytes,
    sessionId: bound.session_id,
    envelopeId: bound.envelope_id,
    inputs: new Map([["t", md("x")]]),
  }, "unsafe_path");
});

Deno.test("ToolGate refuses a plan whose inputs do not match its calls", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }]);
  const request = { planBytes, sessionId: bound.session_id, envelopeId: bound.envelope_id };
  await refused(world, { ...request, inputs: new Map() }, "parse_error");
  await refused(
    world,
    { ...request, inputs: new Map([["t", md("x")], ["extra", md("y")]]) },
    "parse_error",
  );
});

Deno.test("ToolGate refuses a plan id already claimed and a capset of another agent", async () => {
  await using world = await makeWorld();
  const bound = binding();
  const planId = crypto.randomUUID();
  const planBytes = await plan(world, bound, [{ id: "t", tool: "markdown_to_html", args: {} }], {
    planId,
  });
  const used = new MemoryUsedPlans();
  await used.claim(planId);
  await refused(
    world,
    {
      planBytes,
      sessionId: bound.session_id,
      envelopeId: bound.envelope_id,
      inputs: new Map([["t", md("x")]]),
    },
    "replay",
    used,
  );
  assert.throws(
    () =>
      createToolGate({
        agent: "image_filter",
        capset: world.capset,
        manifest: world.manifest,
        repoRoot: world.root,
        plannerKeys: world.plannerKeys,
        clock,
        skewMs: 0,
        usedPlans: used,
        onEvent: () => {},
      }),
    (err: unknown) => err instanceof Error && "code" in err && err.code === "forbidden_grant",
  );
});
