/**
 * The runtime every agent process shares: it receives its secrets from the
 * supervisor over stdin, verifies its trust state and builds its context
 * (`agent_context.ts`), runs its inbox loop (`inbox_loop.ts`) and its service if
 * it has one, reports signed audit events on stdout, and stops cleanly on
 * SIGTERM/SIGINT after in-flight work, or when its supervisor is gone.
 *
 * An agent module (`agents/<name>.ts`) only supplies an {@linkcode AgentDefinition}.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import {
  type AgentDefinition,
  type AgentService,
  type AgentState,
  createAgentState,
} from "./agent_context.ts";
import { errorMessage, type InboxLoop, type InboxOpener, startInboxLoop } from "./inbox_loop.ts";
import { readHandover, readyLine } from "./protocol.ts";

export type { AgentContext, AgentDefinition, AgentService, SendOptions } from "./agent_context.ts";

/** Exit code when a tool timed out and the process must be replaced. */
export const EXIT_RESTART = 75;
/** Exit code when the agent cannot start (bad handover or trust state). */
export const EXIT_CONFIG = 78;
/** Exit code when the supervisor went away (the agent's stdin ended). */
export const EXIT_ORPHANED = 70;

/** Options for {@linkcode runAgent}. */
export interface RunAgentOptions {
  /** The transport that finds inbox entries; default the file-queue watcher. */
  openInbox?: InboxOpener;
}

/**
 * Runs an agent until it is told to stop. Never returns: exits the process.
 *
 * @example
 * ```ts ignore
 * import { runAgent } from "./agent_runtime.ts";
 * if (import.meta.main) await runAgent({ name: "sanitization", handle: async (ctx, v) => {} });
 * ```
 */
export async function runAgent(
  def: AgentDefinition,
  options: RunAgentOptions = {},
): Promise<never> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  let state: AgentState;
  let lifeline: Promise<void>;
  try {
    const read = await readHandover();
    const handover = read.handover;
    lifeline = read.lifeline;
    void read.stopRequested.then(stop);
    state = await createAgentState({
      def,
      handover,
      signal: controller.signal,
      clock: systemClock,
    });
  } catch (err: unknown) {
    const code = err instanceof SaoeError ? ` (${err.code})` : "";
    console.error(`${def.name}: cannot start: ${errorMessage(err)}${code}`);
    Deno.exit(EXIT_CONFIG);
  }
  const { ctx, sink } = state;
  let loop: InboxLoop | undefined;
  if (ctx.capset.receives.length > 0 && def.handle !== undefined) {
    loop = await startInboxLoop({
      state,
      handle: def.handle,
      controller,
      ...(options.openInbox === undefined ? {} : { openInbox: options.openInbox }),
    });
  }
  let service: AgentService | void = undefined;
  try {
    service = await def.start?.(ctx);
  } catch (err: unknown) {
    console.error(`${def.name}: cannot start its service: ${errorMessage(err)}`);
    Deno.exit(EXIT_CONFIG);
  }
  ctx.toolgate?.prewarm().catch((err: unknown) =>
    console.error(`${def.name}: cannot pre-start tool workers: ${errorMessage(err)}`)
  );
  await sink.control(readyLine(service?.listen));
  // an agent whose supervisor is gone (its end of stdin closed) stops at once instead of
  // working unaudited: every queue step is safe against a kill at any point, so this is
  // no worse than the SIGKILL the agents are tested against
  void lifeline.then(() => {
    console.error(`${def.name}: the supervisor is gone (stdin closed); exiting`);
    Deno.exit(EXIT_ORPHANED);
  });
  await new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve();
    else controller.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await loop?.transport.closed;
  await service?.stop();
  loop?.close();
  Deno.exit(ctx.toolgate?.stopped === true ? EXIT_RESTART : 0);
}
