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
import type { AgentContext } from "../runtime/agent_runtime.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import { FileVersionStore } from "../../domain/trust/version_store_file.ts";
import { createViewerHandler } from "./handler.ts";
import { LedgerView } from "./ledger_view.ts";
import { LedgerTail } from "./live.ts";
import { errorResponse } from "./responses.ts";
import { loopbackPort } from "../../primitives/web/loopback_port.ts";

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
export async function startViewer(ctx: AgentContext): Promise<() => Promise<void>> {
  const port = loopbackPort(ctx.capset.net, "the viewer");
  const view = new LedgerView(ledgerPath(ctx.home));
  // woken by a watch on audit/; the fallback poll runs as often as the inboxes' reconciliation
  const tail = new LedgerTail({ view, log, fallbackMs: ctx.handover.reconcile_ms });
  const handler = createViewerHandler({
    home: ctx.home,
    port,
    view,
    tail,
    rootPin: ctx.handover.root_pin,
    skewMs: ctx.handover.skew_ms,
    clock: systemClock,
    versionStore: new FileVersionStore(join(ctx.storeDir, "versions.json")),
    log,
  });
  tail.start();
  // index the existing ledger before reporting ready (bounded: a huge ledger keeps indexing
  // in the background and the sessions page says so)
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    tail.ready,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, INDEX_WAIT_MS))),
  ]);
  clearTimeout(timer);
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    // the default logs "Listening on …" to stdout, which carries only signed reports
    onListen: () => listening.resolve(),
    onError: (err: unknown) => {
      log(`viewer: ${err instanceof Error ? err.message : String(err)}`);
      return errorResponse(500, "The viewer could not answer this request.");
    },
  }, (request) => handler.handle(request));
  await listening.promise;
  log(`viewer: listening on http://127.0.0.1:${port}`);
  return async () => {
    await tail.stop();
    handler.closeStreams();
    await server.shutdown();
    view.close();
  };
}
