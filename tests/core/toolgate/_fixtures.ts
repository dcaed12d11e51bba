/**
 * Fixtures for ToolGate tests: keys, a capset granting the two tools, a temporary
 * repository root holding copies of the tool modules (plus test-only tools), a
 * signed manifest over it, signed plans, and a runner for `_gate_host.ts`, the
 * subprocess that runs the gate with `--unstable-worker-options`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { SaoeError } from "../../../core/primitives/errors.ts";
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../../core/primitives/dsse/types.ts";
import type { Capset } from "../../../core/domain/capset/types.ts";
import { BUILTIN_TOOLS } from "../../../core/domain/toolgate/builtin_tools.ts";
import {
  describeTool,
  signToolManifest,
  type ToolDefinition,
  type ToolManifest,
  verifyToolManifest,
} from "../../../core/domain/toolgate/manifest.ts";
import { type Plan, signPlan } from "../../../core/domain/toolgate/plan.ts";

/** The repository this test runs in. */
export const REPO_ROOT: string = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");
/** Fixed "now" of every test. */
export const NOW: number = Date.parse("2026-03-01T12:00:00Z");
/** A clock stuck at {@linkcode NOW}. */
export const clock = { now: (): number => NOW };

/** Test-only tool: tries every denied operation and reports the error names. */
export const PROBE_SOURCE = `
async function attempt(f) {
  try { await f(); return "allowed"; }
  catch (err) {
    // fetch wraps the permission error in a TypeError: look at its cause too
    const denied = err instanceof Deno.errors.NotCapable || err?.cause instanceof Deno.errors.NotCapable;
    return denied ? "NotCapable" : \`\${err?.name}: \${err?.message}\`;
  }
}
export async function run(_args, _input) {
  const result = {
    read_file: await attempt(() => Deno.readTextFile("/etc/hostname")),
    read_repo: await attempt(() => Deno.readTextFile(${JSON.stringify(`${REPO_ROOT}/deno.json`)})),
    write_file: await attempt(() => Deno.writeTextFile("/tmp/saoe_probe_should_not_exist", "x")),
    fetch: await attempt(() => fetch("http://127.0.0.1:65000/")),
    connect: await attempt(() => Deno.connect({ hostname: "127.0.0.1", port: 65000 })),
    env: await attempt(() => Deno.env.get("HOME")),
    run: await attempt(() => new Deno.Command("true").output()),
  };
  return { bytes: new TextEncoder().encode(JSON.stringify(result)), media_type: "application/json" };
}
`;

/** Test-only tool that never finishes. */
export const SLOW_SOURCE = `export function run() { for (;;) { /* spin */ } }\n`;

/** Definitions of the test-only tools. */
export const TEST_TOOLS: readonly ToolDefinition[] = [
  {
    name: "probe",
    module: "core/domain/toolgate/tools/probe.ts",
    args_schema: { type: "object", additionalProperties: false },
    timeout_ms: 15_000,
  },
  {
    name: "slow",
    module: "core/domain/toolgate/tools/slow.ts",
    args_schema: { type: "object", additionalProperties: false },
    timeout_ms: 1_500,
  },
];

/** Keys of one test world. */
export interface World extends AsyncDisposable {
  dispatcher: SigningKey;
  planner: SigningKey;
  /** Temporary repository root with the tool modules. */
  root: string;
  manifestBytes: Uint8Array;
  manifest: ToolManifest;
  dispatcherKeys: TrustedKeySet;
  plannerKeys: TrustedKeySet;
  capset: Capset;
}

/** A capset for `text_formatter` granting every test tool. */
export function capsetFor(agent = "text_formatter"): Capset {
  return {
    agent,
    version: 1,
    issued_at: "2026-03-01T00:00:00Z",
    expires_at: "2026-03-02T00:00:00Z",
    receives: [],
    sends: [],
    tools: [
      { name: "markdown_to_html", allowed_args: {} },
      {
        name: "image_sanitize",
        allowed_args: { format: { enum: ["jpeg", "png"] }, resize_max: { min: 16, max: 2048 } },
      },
      { name: "probe", allowed_args: {} },
      { name: "slow", allowed_args: {} },
    ],
    vault: [],
    fs: { read: [], write: [] },
    net: [],
    limits: {
      max_envelope_bytes: 65536,
      quota_per_minute: 60,
      max_inbox_depth: 100,
      max_quarantine: 100,
    },
  };
}

/**
 * Copies the tool modules into a temporary repository root, adds the test tools,
 * and signs a manifest over their current bytes.
 */
export async function makeWorld(): Promise<World> {
  const dispatcher = await SigningKey.fromSeed(generateSeed());
  const planner = await SigningKey.fromSeed(generateSeed());
  const root = await Deno.makeTempDir({ prefix: "saoe_toolgate_" });
  for (const tool of BUILTIN_TOOLS) {
    const target = join(root, tool.module);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(join(REPO_ROOT, tool.module), target);
  }
  await Deno.writeTextFile(join(root, "core/domain/toolgate/tools/probe.ts"), PROBE_SOURCE);
  await Deno.writeTextFile(join(root, "core/domain/toolgate/tools/slow.ts"), SLOW_SOURCE);
  const tools = [];
  for (const tool of [...BUILTIN_TOOLS, ...TEST_TOOLS]) tools.push(await describeTool(root, tool));
  const manifestBytes = await signToolManifest({
    version: 1,
    tools,
    signers: [dispatcher],
    issuedAt: NOW - 60_000,
    validForMs: 86_400_000,
  });
  const dispatcherKeys = { name: "dispatcher", keys: [dispatcher], threshold: 1 };
  const manifest = await verifyToolManifest(manifestBytes, {
    dispatcher: dispatcherKeys,
    clock,
    skewMs: 0,
  });
  return {
    dispatcher,
    planner,
    root,
    manifestBytes,
    manifest,
    dispatcherKeys,
    plannerKeys: { name: "planner", keys: [planner], threshold: 1 },
    capset: capsetFor(),
    // `await using world = await makeWorld()` removes the temporary root
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** The ids a plan is bound to. */
export interface Binding {
  session_id: string;
  envelope_id: string;
}

/** A fresh session and envelope id pair. */
export function binding(): Binding {
  return { session_id: crypto.randomUUID(), envelope_id: crypto.randomUUID() };
}

/** Signs a plan (by default with the world's planner key, issuer `planner`). */
export async function plan(
  world: World,
  bound: Binding,
  calls: Plan["calls"],
  options: { signer?: SigningKey; issuer?: string; planId?: string } = {},
): Promise<Uint8Array> {
  return await signPlan({
    plan: {
      plan_id: options.planId ?? crypto.randomUUID(),
      session_id: bound.session_id,
      envelope_id: bound.envelope_id,
      issuer: options.issuer ?? "planner",
      calls,
    },
    signers: [options.signer ?? world.planner],
    issuedAt: NOW - 1000,
    validForMs: 300_000,
  });
}

/** One execution asked of the host subprocess. */
export interface HostRun {
  plan: Uint8Array;
  bound: Binding;
  inputs: Record<string, Uint8Array>;
}

/** What the host subprocess reports. */
export interface HostReport {
  /** Workers constructed in the host. */
  spawned: number;
  /** Whether the gate stopped itself after a timeout. */
  stopped: boolean;
  events: Record<string, unknown>[];
  results: (
    | {
      ok: true;
      outputs: Record<
        string,
        { media_type: string; width?: number; height?: number; bytes: string }
      >;
    }
    | { ok: false; code: string; message: string }
  )[];
}

/**
 * Runs `_gate_host.ts` in `deno run --unstable-worker-options` with read access to
 * the world's root only (as an agent would run), executing `runs` in order.
 */
export async function runHost(world: World, runs: HostRun[]): Promise<HostReport> {
  const request = {
    root: world.root,
    now: NOW,
    manifest: world.manifestBytes.toBase64(),
    dispatcher: world.dispatcher.publicKey.toBase64(),
    planner: world.planner.publicKey.toBase64(),
    capset: world.capset,
    runs: runs.map((r) => ({
      plan: r.plan.toBase64(),
      session_id: r.bound.session_id,
      envelope_id: r.bound.envelope_id,
      inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, v.toBase64()])),
    })),
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--frozen",
      "--unstable-worker-options",
      `--allow-read=${world.root}`,
      "tests/core/toolgate/_gate_host.ts",
    ],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `gate host failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as HostReport;
}

/** Asserts that `promise` rejects with a SaoeError of `code`; returns it. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<SaoeError> {
  try {
    await promise;
  } catch (err: unknown) {
    assert.ok(err instanceof SaoeError, `expected a SaoeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a refusal with code ${code}`);
}

/**
 * Replaces the global `Worker` with a constructor that records and refuses, so a
 * test proves that no tool worker was started; returns the counter and a restore.
 */
export function forbidWorkers(): { count: () => number; restore: () => void } {
  const original = globalThis.Worker;
  let count = 0;
  // a worker started here would be a gate bug: count it and refuse to start it
  globalThis.Worker = class {
    constructor() {
      count++;
      throw new Error("a tool worker was started");
    }
  } as unknown as typeof Worker;
  return { count: () => count, restore: () => void (globalThis.Worker = original) };
}
