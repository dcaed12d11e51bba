/**
 * Subprocess host for ToolGate tests: runs with `--unstable-worker-options` (as an
 * agent must) and read access to the test repository root only. Reads a JSON
 * request on stdin, executes each plan in order with one gate and one in-memory
 * replay store, and prints a JSON report: results, audit events and how many
 * Workers were constructed. The gate's pool schedules its pre-starts on a fake
 * clock (a call's time limit is real time), ticked by the pre-start delay at the
 * end, so a pre-start the calls scheduled is counted, and one that was not is not.
 *
 * @module
 */
import FakeTimers from "@sinonjs/fake-timers";
import { SaoeError } from "../../../core/primitives/errors.ts";
import { keyIdOf } from "../../../core/primitives/crypto/ed25519.ts";
import type { Capset } from "../../../core/domain/capset/types.ts";
import { createToolGate, type ToolGateEvent } from "../../../core/domain/toolgate/gate.ts";
import { verifyToolManifest } from "../../../core/domain/toolgate/manifest.ts";
import { MemoryUsedPlans } from "../../../core/domain/toolgate/used_plans_memory.ts";
import {
  DEFAULT_PRESTART_DELAY_MS,
  ToolWorkerPool,
} from "../../../core/domain/toolgate/worker_pool.ts";

interface Request {
  root: string;
  now: number;
  manifest: string;
  dispatcher: string;
  planner: string;
  capset: Capset;
  runs: { plan: string; session_id: string; envelope_id: string; inputs: Record<string, string> }[];
}

let spawned = 0;
const OriginalWorker = globalThis.Worker;
globalThis.Worker = class extends OriginalWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    spawned++;
    super(url, options);
  }
};

const request = JSON.parse(await new Response(Deno.stdin.readable).text()) as Request;
const clock = { now: () => request.now };
const keySet = async (name: string, b64: string) => {
  const publicKey = Uint8Array.fromBase64(b64);
  return { name, keys: [{ keyid: await keyIdOf(publicKey), publicKey }], threshold: 1 };
};
const manifest = await verifyToolManifest(Uint8Array.fromBase64(request.manifest), {
  dispatcher: await keySet("dispatcher", request.dispatcher),
  clock,
  skewMs: 0,
});
const events: ToolGateEvent[] = [];
const poolClock = FakeTimers.createClock();
const gate = createToolGate({
  agent: request.capset.agent,
  capset: request.capset,
  manifest,
  repoRoot: request.root,
  plannerKeys: await keySet("planner", request.planner),
  clock,
  skewMs: 0,
  usedPlans: new MemoryUsedPlans(),
  onEvent: (event) => void events.push(event),
  pool: new ToolWorkerPool({ timers: poolClock }),
});
const results = [];
for (const run of request.runs) {
  try {
    const result = await gate.execute({
      planBytes: Uint8Array.fromBase64(run.plan),
      sessionId: run.session_id,
      envelopeId: run.envelope_id,
      inputs: new Map(Object.entries(run.inputs).map(([k, v]) => [k, Uint8Array.fromBase64(v)])),
    });
    const outputs: Record<string, unknown> = {};
    for (const [id, output] of result.outputs) {
      outputs[id] = { ...output, bytes: output.bytes.toBase64() };
    }
    results.push({ ok: true, outputs });
  } catch (err: unknown) {
    if (!(err instanceof SaoeError)) throw err;
    results.push({ ok: false, code: err.code, message: err.message });
  }
}
// the warm worker for a tool's next call is pre-started on a timer after each call
poolClock.tick(DEFAULT_PRESTART_DELAY_MS);
console.log(JSON.stringify({ spawned, events, results, stopped: gate.stopped }));
// a timed-out worker may still spin (Deno's terminate cannot stop a busy loop): exit explicitly
Deno.exit(0);
