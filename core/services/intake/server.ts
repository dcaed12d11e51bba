/**
 * Intake's service: serves the API handler and the web form (`web/`, sharing
 * one quota and queue admission) with `Deno.serve` on the one loopback
 * address its capability set names (the process's `--allow-net` allows nothing
 * else), wired to the agent runtime: credentials and limits from the handover,
 * queue depth of `agents/sanitization/inbox/intake/`, accepted submissions sent with
 * `ctx.send`, refusals audited as `intake_refused` (`detail.surface` says
 * whether the API or the web form refused). Nothing is printed to stdout
 * (the audit channel to the supervisor).
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { inboxDir } from "../../domain/home/layout.ts";
import { inboxDepth } from "../../domain/queue/depth.ts";
import type { AgentContext, AgentService } from "../runtime/agent_runtime.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import { acceptSubmission, INTAKE_RECEIVER } from "./accept.ts";
import { createAdmission, createIntakeHandler } from "./handler.ts";
import type { IntakeRefusal } from "./refusal.ts";
import type { OperatorToken } from "../runtime/protocol.ts";
import type { Submission } from "./submission.ts";
import { createIntakeWebHandler, isWebPath } from "./web/handler.ts";
import { loopbackPort } from "../../primitives/web/loopback_port.ts";
import { serveLoopback } from "../../primitives/web/serve_loopback.ts";

/**
 * Starts the intake API for the running agent; resolves once it listens and
 * returns a function that shuts it down gracefully (in-flight requests finish).
 *
 * @example
 * ```ts ignore
 * import { runAgent } from "../runtime/agent_runtime.ts";
 * await runAgent({ name: "intake", start: startIntake });
 * ```
 */
export async function startIntake(ctx: AgentContext): Promise<AgentService> {
  const tokens = ctx.handover.operator_tokens;
  const limits = ctx.handover.intake;
  if (tokens === undefined || limits === undefined) {
    throw new SaoeError(
      "bad_config",
      "Cannot start intake: the handover carries no operator credentials or intake limits",
    );
  }
  const port = loopbackPort(ctx.capset.net, "intake");
  const inbox = inboxDir(ctx.home, INTAKE_RECEIVER);
  const admission = createAdmission({
    limits,
    clock: systemClock,
    queueDepth: () => inboxDepth({ inbox, senders: [ctx.agent] }),
  });
  const accept = (submission: Submission, credential: OperatorToken) =>
    acceptSubmission(ctx, submission, credential);
  const refused = (surface: "api" | "web") => (refusal: IntakeRefusal) =>
    ctx.emit({
      type: "intake_refused",
      reason: refusal.reason,
      detail: {
        status: refusal.status,
        message: refusal.message.slice(0, 300),
        surface,
        ...(refusal.credential !== undefined ? { credential: refusal.credential } : {}),
      },
    });
  const server = await serveLoopback({
    port,
    who: "intake",
    // the Host check names the port actually bound (0 in the capset: assigned now)
    build: (bound) => {
      const serveWeb = createIntakeWebHandler({
        tokens,
        clock: systemClock,
        port: bound,
        ...(ctx.handover.viewer_url !== undefined ? { viewerUrl: ctx.handover.viewer_url } : {}),
        admission,
        accept,
        refused: refused("web"),
      });
      return createIntakeHandler({
        tokens,
        limits,
        clock: systemClock,
        port: bound,
        queueDepth: () => inboxDepth({ inbox, senders: [ctx.agent] }),
        admission,
        accept,
        refused: refused("api"),
        pages: { handles: isWebPath, serve: serveWeb },
      });
    },
    onError: (err: unknown) => {
      console.error(`intake: ${(err instanceof Error ? err.message : String(err)).slice(0, 500)}`);
      return new Response('{"ok":false,"error":"Internal error","reason":"handler_error"}', {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    },
  });
  console.error(`intake: listening on http://${server.listen}`);
  return { stop: () => server.shutdown(), listen: server.listen };
}
