/**
 * The viewer's service: wires the handler to the agent runtime and serves it
 * with `Deno.serve` on the one loopback address its capability set names (its
 * `--allow-net` allows nothing else; its `--allow-read` covers `output/`,
 * `audit/`, the trust root and its own folders, and it may write nothing but
 * its own folders). Nothing is printed to stdout, the signed audit channel to
 * the supervisor.
 *
 * @module
 */
import { join } from "node:path";
import { ledgerPath } from "../../domain/home/layout.ts";
import type { AgentContext, AgentService } from "../runtime/agent_runtime.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import { FileVersionStore } from "../../domain/trust/version_store_file.ts";
import { createViewerHandler } from "./handler.ts";
import { handoverWitnessPolicy } from "../witness/policy.ts";
import { outputFindingEvent } from "./output_guard.ts";
import { LedgerView } from "./ledger_view.ts";
import { LedgerTail } from "./live.ts";
import { errorResponse } from "./responses.ts";
import { loopbackPort } from "../../primitives/web/loopback_port.ts";
import { serveLoopback } from "../../primitives/web/serve_loopback.ts";

/** Longest wait for the first indexing pass before the viewer reports ready. */
const INDEX_WAIT_MS = 5_000;

function log(line: string): void {
  console.error(line.slice(0, 1000));
}

/**
 * Starts the viewer for the running agent; resolves once it listens and returns
 * the function that stops it (live streams are ended first, so the graceful
 * shutdown does not wait on them).
 *
 * @example
 * ```ts ignore
 * import { runAgent } from "../runtime/agent_runtime.ts";
 * await runAgent({ name: "viewer", start: startViewer });
 * ```
 */
export async function startViewer(ctx: AgentContext): Promise<AgentService> {
  const port = loopbackPort(ctx.capset.net, "the viewer");
  const view = new LedgerView(ledgerPath(ctx.home));
  // woken by a watch on audit/; the fallback poll runs as often as the inboxes' reconciliation
  const tail = new LedgerTail({ view, log, fallbackMs: ctx.handover.reconcile_ms });
  tail.start();
  // index the existing ledger before reporting ready (bounded: a huge ledger keeps indexing
  // in the background and the sessions page says so)
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    tail.ready,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, INDEX_WAIT_MS))),
  ]);
  clearTimeout(timer);
  let handler: ReturnType<typeof createViewerHandler> | undefined;
  const server = await serveLoopback({
    port,
    who: "the viewer",
    // the Host check names the port actually bound (0 in the capset: assigned now)
    build: (bound) => {
      handler = createViewerHandler({
        home: ctx.home,
        port: bound,
        view,
        tail,
        rootPin: ctx.handover.root_pin,
        ...(ctx.handover.witnesses !== undefined
          ? { witnesses: handoverWitnessPolicy(ctx.handover.witnesses) }
          : {}),
        skewMs: ctx.handover.skew_ms,
        clock: systemClock,
        versionStore: new FileVersionStore(join(ctx.storeDir, "versions.json")),
        // a file under output/ that no published event vouches for: signed, into the ledger
        reportOutput: (finding) => ctx.emit(outputFindingEvent(finding)),
        log,
      });
      return (request) => handler!.handle(request);
    },
    onError: (err: unknown) => {
      log(`viewer: ${err instanceof Error ? err.message : String(err)}`);
      return errorResponse(500, "The viewer could not answer this request.");
    },
  });
  log(`viewer: listening on http://${server.listen}`);
  const stop = async () => {
    await tail.stop();
    handler?.closeStreams();
    await server.shutdown();
    view.close();
  };
  return { stop, listen: server.listen };
}
