import assert from "node:assert/strict";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import type { PoolStep, PoolStepReport } from "./_pool_host.ts";
import { PROBE_SOURCE, REPO_ROOT, SLOW_SOURCE } from "./_fixtures.ts";

interface PoolReport {
  reports: PoolStepReport[];
  stopped: boolean;
}

/** Runs `steps` against one pool in a `--unstable-worker-options` subprocess with no permissions. */
async function runPool(
  steps: PoolStep[],
  callsPerWorker?: number,
  retireIdleMs?: number,
): Promise<PoolReport> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--frozen",
      "--unstable-worker-options",
      "tests/core/toolgate/_pool_host.ts",
    ],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      JSON.stringify({ steps, calls_per_worker: callsPerWorker, retire_idle_ms: retireIdleMs }),
    ),
  );
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, `pool host failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as PoolReport;
}

function json(body: string): string {
  return `return { bytes: new TextEncoder().encode(JSON.stringify(${body})), media_type: "application/json" };`;
}

/** A tool that reports when its module was imported, when it ran, and its own call count. */
const STAMP_SOURCE = `
const importedAt = Date.now();
let calls = 0;
export function run() {
  calls++;
  ${json("{ importedAt, ranAt: Date.now(), calls }")}
}
`;

Deno.test("ToolWorkerPool pre-starts a worker that imports the module before the next call", async () => {
  const { reports } = await runPool([
    { op: "run", tool: "stamp", source: STAMP_SOURCE, input: "secret of call 1" },
    { op: "wait_ready", tool: "stamp" },
    // not a wait for the worker (wait_ready was): Date.now() moves on, so "before" is strict
    { op: "sleep", ms: 20 },
    { op: "run", tool: "stamp", source: STAMP_SOURCE, input: "call 2" },
  ], 1);
  const [first, ready, , second] = reports;
  assert.ok(first!.ok && second!.ok, JSON.stringify(reports));
  // the warm worker for the next call exists right after the first one answered
  assert.deepEqual(first!.warm.map((w) => w.tool), ["stamp"]);
  assert.equal(ready!.warm[0]!.state, "ready");
  assert.equal(ready!.warm[0]!.served, 0);
  assert.equal(ready!.warm[0]!.sha256, await sha256Hex(new TextEncoder().encode(STAMP_SOURCE)));
  const out = second!.output as { importedAt: number; ranAt: number; calls: number };
  assert.ok(out.importedAt < second!.started, "the module was imported before the call came");
  // callsPerWorker 1: a fresh isolate per call, no module state left by call 1
  assert.equal(out.calls, 1);
  // call 1's worker, the warm worker that served call 2, and the next warm one
  assert.equal(second!.spawned, 3);
});

Deno.test("ToolWorkerPool reuses a worker for up to callsPerWorker calls, then starts a fresh one", async () => {
  const steps: PoolStep[] = [1, 2, 3, 4].map((n) => ({
    op: "run",
    tool: "stamp",
    source: STAMP_SOURCE,
    input: `call ${n}`,
  }));
  const { reports } = await runPool(steps, 3);
  const calls = reports.map((r) => (r.output as { calls: number }).calls);
  // one isolate served calls 1 to 3; call 4 ran in the fresh one pre-started after call 3
  assert.deepEqual(calls, [1, 2, 3, 1]);
  assert.deepEqual(reports.map((r) => r.spawned), [1, 1, 2, 2]);
  assert.deepEqual(reports.map((r) => r.warm[0]?.served), [1, 2, 0, 1]);
});

Deno.test("ToolWorkerPool: a call that pollutes a built-in prototype fails and the next call runs clean", async () => {
  const source = `
export function run(_a, input) {
  const text = new TextDecoder().decode(input);
  const seen = { obj: ({}).polluted ?? null, arr: [].polluted ?? null, str: "".polluted ?? null };
  if (text === "pollute") {
    Object.prototype.polluted = "by call 1";
  } else if (text === "pollute-array") {
    Array.prototype.polluted = "by call 1";
  } else if (text === "pollute-proto") {
    JSON.parse('{"__proto__": {"x": 1}}');
    Object.assign(Object.getPrototypeOf(""), { polluted: "by call 1" });
  }
  ${json("seen")}
}
`;
  for (const attack of ["pollute", "pollute-array", "pollute-proto"]) {
    const { reports } = await runPool([
      { op: "run", tool: "p", source, input: "warm" },
      { op: "run", tool: "p", source, input: attack },
      { op: "run", tool: "p", source, input: "victim" },
    ], 64);
    // the change was found after the call: it failed, its output was dropped, its worker ended
    assert.equal(reports[1]!.code, "handler_error", `${attack}: ${JSON.stringify(reports[1])}`);
    assert.match(
      reports[1]!.message!,
      /Tool call changed shared state: (Object|Array|String)\.prototype\.polluted \(added\)/,
    );
    assert.deepEqual(reports[2]!.output, { obj: null, arr: null, str: null });
    assert.equal(reports[2]!.spawned, 2, "the victim call ran in a fresh worker");
  }
});
Deno.test("ToolWorkerPool drops the warm worker when the tool's module digest changes", async () => {
  const v1 = `export function run() { ${json('"v1"')} }\n`;
  const v2 = `export function run() { ${json('"v2"')} }\n`;
  const { reports } = await runPool([
    { op: "run", tool: "t", source: v1 },
    { op: "wait_ready", tool: "t" },
    { op: "run", tool: "t", source: v2 },
    { op: "run", tool: "t", source: v2 },
  ], 1);
  assert.deepEqual(reports.map((r) => r.output), ["v1", undefined, "v2", "v2"]);
  // v1's warm worker was terminated unused: call 2 needed a worker of its own
  assert.equal(reports[2]!.spawned, 4);
  assert.equal(reports[3]!.spawned, 5);
  const sha2 = await sha256Hex(new TextEncoder().encode(v2));
  assert.deepEqual(reports[3]!.warm.map((w) => [w.tool, w.sha256]), [["t", sha2]]);
});

Deno.test("ToolWorkerPool keeps one warm worker per tool", async () => {
  const a = `export function run() { ${json('"a"')} }\n`;
  const b = `export function run() { ${json('"b"')} }\n`;
  const { reports } = await runPool([
    { op: "run", tool: "a", source: a },
    { op: "run", tool: "b", source: b },
    { op: "run", tool: "a", source: a },
  ], 1);
  assert.deepEqual(reports.map((r) => r.output), ["a", "b", "a"]);
  assert.deepEqual(reports[2]!.warm.map((w) => w.tool).sort(), ["a", "b"]);
  assert.equal(reports[2]!.spawned, 5);
});

Deno.test("ToolWorkerPool runs warm workers with no permissions", async () => {
  const { reports } = await runPool([
    { op: "run", tool: "probe", source: PROBE_SOURCE },
    { op: "wait_ready", tool: "probe" },
    { op: "run", tool: "probe", source: PROBE_SOURCE },
  ], 1);
  const denied = {
    read_file: "NotCapable",
    read_repo: "NotCapable",
    write_file: "NotCapable",
    fetch: "NotCapable",
    connect: "NotCapable",
    env: "NotCapable",
    run: "NotCapable",
  };
  assert.deepEqual(reports[0]!.output, denied);
  assert.deepEqual(reports[2]!.output, denied);
});

Deno.test("ToolWorkerPool calls a tool's warm() after import, before the call", async () => {
  const source = `
let warmedAt = null;
export function warm() { warmedAt = Date.now(); }
export function run() { ${json("{ warmedAt }")} }
`;
  const { reports } = await runPool([
    { op: "run", tool: "w", source },
    { op: "wait_ready", tool: "w" },
    { op: "run", tool: "w", source },
  ], 1);
  const out = reports[2]!.output as { warmedAt: number | null };
  assert.ok(out.warmedAt !== null && out.warmedAt < reports[2]!.started);
});

Deno.test("ToolWorkerPool reports a failing tool as handler_error and pre-starts the next worker", async () => {
  const source = `export function run(_a, input) {
  if (new TextDecoder().decode(input) === "fail") throw new RangeError("bad input");
  ${json('"fine"')}
}\n`;
  const { reports } = await runPool([
    { op: "run", tool: "f", source, input: "fail" },
    { op: "run", tool: "f", source, input: "ok" },
  ]);
  assert.equal(reports[0]!.ok, false);
  assert.equal(reports[0]!.code, "handler_error");
  assert.match(reports[0]!.message!, /Tool f failed: RangeError: bad input/);
  assert.deepEqual(reports[0]!.warm.map((w) => w.tool), ["f"]);
  assert.equal(reports[1]!.output, "fine");
});

Deno.test("ToolWorkerPool refuses an answer the tool posts before its module loaded", async () => {
  const source = `
globalThis.postMessage({ ok: true, id: 1, output: { bytes: new Uint8Array(1), media_type: "text/plain" } });
export function run() { ${json('"real"')} }
`;
  const { reports } = await runPool([
    { op: "run", tool: "early", source },
    // the pre-started worker posts while loading: it is discarded
    { op: "wait_gone", tool: "early" },
    { op: "run", tool: "early", source },
  ], 1);
  assert.equal(reports[0]!.code, "handler_error");
  assert.match(reports[0]!.message!, /answered before its module was loaded/);
  assert.deepEqual(reports[0]!.warm.map((w) => w.state), ["loading"], "a worker was pre-started");
  // the warm worker that posted while waiting was discarded, not used
  assert.deepEqual(reports[1]!.warm, []);
  assert.equal(reports[2]!.code, "handler_error");
});

Deno.test("ToolWorkerPool stops a tool at its time limit and pre-starts no more workers", async () => {
  const fine = `export function run() { ${json('"fine"')} }\n`;
  const { reports, stopped } = await runPool([
    { op: "run", tool: "fine", source: fine },
    { op: "run", tool: "slow", source: SLOW_SOURCE, timeout_ms: 300 },
    { op: "run", tool: "fine", source: fine },
  ], 1);
  assert.equal(reports[1]!.code, "tool_timeout");
  assert.match(reports[1]!.message!, /did not finish within 300 ms and was terminated/);
  assert.equal(stopped, true);
  // every warm worker was dropped: a busy thread may still be spinning
  assert.deepEqual(reports[1]!.warm, []);
  assert.equal(reports[1]!.spawned, 3);
  // a later call still runs one-shot, without warming a successor
  assert.equal(reports[2]!.output, "fine");
  assert.deepEqual(reports[2]!.warm, []);
  assert.equal(reports[2]!.spawned, 4);
});

Deno.test("ToolWorkerPool fails a call whose reply carries another call's id, and ends that worker", async () => {
  // call 1 answers, then posts a forged reply for call 2 a little later
  const source = `
let n = 0;
export function run() {
  n++;
  if (n === 1) setTimeout(() => globalThis.postMessage({ ok: true, id: 2, output: { bytes: new TextEncoder().encode('"forged"'), media_type: "application/json" } }), 100);
  if (n === 2) return new Promise((resolve) => setTimeout(() => resolve({ bytes: new TextEncoder().encode('"real"'), media_type: "application/json" }), 400));
  ${json('"first"')}
}
`;
  const { reports } = await runPool([
    { op: "run", tool: "late", source },
    // the forged reply arrives between the calls and breaks the worker
    { op: "wait_gone", tool: "late" },
    { op: "run", tool: "late", source },
  ], 64);
  assert.equal(reports[0]!.output, "first");
  assert.deepEqual(reports[0]!.warm.map((w) => w.served), [1], "the worker waited for call 2");
  // the message between calls broke the worker: it is no longer offered to a call
  assert.deepEqual(reports[1]!.warm, []);
  // call 2 ran in a fresh worker and got its own answer
  assert.equal(reports[2]!.output, "first");
  assert.equal(reports[2]!.spawned, 2);
});

Deno.test("ToolWorkerPool: a global left by a call, or set later by its timer, fails and ends the worker", async () => {
  const source = `
export function run(args, input) {
  const text = new TextDecoder().decode(input);
  const seen = globalThis.leftover ?? null;
  if (text === "leave") globalThis.leftover = "call 2's secret";
  if (text === "later") {
    setTimeout(() => { globalThis.leftover = "late"; Atomics.store(args.signal, 0, 1); }, 50);
  }
  ${json("seen")}
}
`;
  const { reports } = await runPool([
    { op: "run", tool: "g", source, input: "warm" },
    { op: "run", tool: "g", source, input: "leave" },
    { op: "run", tool: "g", source, input: "victim" },
    { op: "run", tool: "g", source, input: "later", signal: true },
    // the tool's timer has written the global (it signals right after)
    { op: "wait_signal" },
    { op: "run", tool: "g", source, input: "victim" },
    { op: "run", tool: "g", source, input: "victim" },
  ], 64);
  assert.equal(reports[1]!.code, "handler_error");
  assert.match(
    reports[1]!.message!,
    /Tool call changed shared state: globalThis\.leftover \(added\)/,
  );
  assert.equal(reports[2]!.output, null);
  assert.equal(reports[3]!.output, null);
  // the timer wrote after call 4 answered: the next call refuses to run in that worker
  assert.equal(reports[5]!.code, "handler_error");
  assert.match(
    reports[5]!.message!,
    /state changed between calls: globalThis\.leftover \(added\)/,
  );
  assert.equal(reports[6]!.output, null);
  assert.equal(reports[6]!.spawned, 3);
});

Deno.test("ToolWorkerPool replaces a worker that served calls once its tool was idle", async () => {
  const { reports } = await runPool(
    [
      { op: "run", tool: "stamp", source: STAMP_SOURCE },
      { op: "run", tool: "stamp", source: STAMP_SOURCE },
      // the pool's clock passes the idle time: the used worker is retired at once
      { op: "tick", ms: 600 },
      { op: "wait_ready", tool: "stamp" },
      { op: "run", tool: "stamp", source: STAMP_SOURCE },
    ],
    64,
    300,
  );
  const calls = reports.map((r) => (r.output as { calls: number } | undefined)?.calls);
  assert.deepEqual(calls, [1, 2, undefined, undefined, 1]);
  // after the idle time the used worker was gone and a fresh one waited in its place
  assert.deepEqual(reports[2]!.warm.map((w) => w.served), [0]);
  assert.equal(reports[2]!.spawned, 2);
  assert.equal(reports[4]!.spawned, 2);
});
