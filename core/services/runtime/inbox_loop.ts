/**
 * The inbox loop of an agent that receives envelopes: every entry its
 * transport finds goes quarantine → 14-step validation → handler → delete, or
 * to the dead-letter area with a reason and an audit event. Entries an operator
 * retries (`agents/<me>/retry/`) must carry an existing claim; entries from an
 * inbox folder must be signed by the sender that folder belongs to.
 *
 * The transport is the file-queue watcher unless the caller gives another one
 * (the benchmark's polling baseline does).
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { createValidator, type ValidatedEnvelope } from "../../domain/validate/validator.ts";
import { SqliteReplayStore } from "../../domain/validate/replay_store.ts";
import { MemoryQuotaStore } from "../../domain/validate/quota_store.ts";
import { envelopeIds } from "../../domain/validate/envelope.ts";
import {
  type PipelineOptions,
  processEntry,
  recoverQuarantine,
} from "../../domain/queue/process.ts";
import type { EntryOrigin, QueuedEntry } from "../../domain/queue/types.ts";
import {
  type InboxTransport,
  watchInbox,
  type WatchInboxOptions,
} from "../../domain/queue/inbox.ts";
import { queuePaths } from "../../domain/queue/paths.ts";
import type { AgentDefinition, AgentState } from "./agent_context.ts";
import { expiringDirectory } from "./expiry_guards.ts";

/** Opens the transport that finds inbox entries; default {@linkcode watchInbox}. */
export type InboxOpener = (options: WatchInboxOptions) => Promise<InboxTransport>;

/** Minimum time between two `quarantine_limit_exceeded` events of one agent. */
const QUARANTINE_EVENT_INTERVAL_MS = 60_000;

/** A message for a log line or an audit detail, at most 500 characters. */
export function errorMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}

async function countDead(deadDir: string): Promise<number> {
  let n = 0;
  for await (const entry of Deno.readDir(deadDir)) if (entry.name.endsWith(".satl")) n++;
  return n;
}

/** Options for {@linkcode startInboxLoop}. */
export interface InboxLoopOptions {
  state: AgentState;
  handle: NonNullable<AgentDefinition["handle"]>;
  /** Aborting it stops the transport; the loop aborts it itself after a tool timeout. */
  controller: AbortController;
  openInbox?: InboxOpener;
}

/** A running inbox loop. */
export interface InboxLoop {
  transport: InboxTransport;
  /** Closes the replay store (after the transport closed). */
  close(): void;
}

/** Recovers the quarantine, then starts finding and processing inbox entries. */
export async function startInboxLoop(options: InboxLoopOptions): Promise<InboxLoop> {
  const { state, handle, controller } = options;
  const { ctx, sink, clock } = state;
  const me = ctx.agent;
  const skewMs = ctx.handover.skew_ms;
  const paths = queuePaths(ctx.home, me);
  const replay = SqliteReplayStore.open(join(ctx.storeDir, "replay.db"), {
    synchronous: "normal",
  });
  const common = {
    me,
    directory: expiringDirectory(ctx.trust.directory, {
      statements: [
        { what: `trust root v${ctx.trust.root.version}`, expires_at: ctx.trust.root.expires_at },
        {
          what: `agent key directory v${ctx.trust.directory.version}`,
          expires_at: ctx.trust.directory.expires_at,
        },
      ],
      skewMs,
    }),
    capsets: ctx.trust.capsets,
    vault: ctx.trust.vault,
    quota: new MemoryQuotaStore(),
    clock,
    skewMs,
  };
  // a claim interrupted by a crash is resumed (the recovered entry runs again);
  // an envelope already handled or dead-lettered is a replay
  const validator = createValidator({
    ...common,
    replay: { claim: async (id: string) => (await replay.claimOrResume(id)) !== "refused" },
  });
  // an operator retry: the id must be claimed here and not handled yet
  const retryValidator = createValidator({
    ...common,
    replay: { claim: (id: string) => replay.reopen(id) },
  });
  const pipeline: PipelineOptions<ValidatedEnvelope> = {
    quarantineDir: paths.quarantine,
    deadDir: paths.dead,
    async validate(entry: QueuedEntry) {
      const v = await (entry.origin.kind === "retry" ? retryValidator : validator).validateFile(
        entry.path,
      );
      if (entry.origin.kind === "inbox" && v.envelope.sender !== entry.origin.sender) {
        // only the sender may write its folder: a mismatch means the folder was written by someone else
        throw new SaoeError(
          "edge_not_allowed",
          `Cannot accept envelope ${v.envelope.envelope_id}: signed by "${v.envelope.sender}" but found in the folder of "${entry.origin.sender}"`,
          envelopeIds(v.envelope),
        );
      }
      await sink.emit({
        type: "validated",
        session_id: v.envelope.session_id,
        envelope_id: v.envelope.envelope_id,
        detail: { sender: v.envelope.sender, template: v.envelope.template.id },
      });
      return v;
    },
    async handle(v) {
      try {
        await handle(ctx, v);
      } catch (err: unknown) {
        await state.planClaims.settle("failed");
        await replay.finish(v.envelope.envelope_id, "failed");
        throw err;
      }
      // the envelope first: a crash between the two leaves a plan claim open whose
      // envelope can never be resumed, never a resumed envelope whose plan is closed
      await replay.finish(v.envelope.envelope_id, "done");
      await state.planClaims.settle("done");
    },
    idsOf: (v) => envelopeIds(v.envelope),
    onRefused: (err, ids) =>
      sink.emit({
        type: "rejected",
        ...(ids.session_id ? { session_id: ids.session_id } : {}),
        ...(ids.envelope_id ? { envelope_id: ids.envelope_id } : {}),
        reason: err.code,
        detail: {
          message: err.message.slice(0, 500),
          ...(ids.sender ? { sender: ids.sender } : {}),
        },
      }),
    onHandlerError: (err, ids) =>
      sink.emit({
        type: "handler_error",
        ...(ids.session_id ? { session_id: ids.session_id } : {}),
        ...(ids.envelope_id ? { envelope_id: ids.envelope_id } : {}),
        reason: "handler_error",
        detail: {
          message: errorMessage(err),
          ...(err instanceof SaoeError ? { code: err.code } : {}),
        },
      }),
    clock,
  };
  await Deno.mkdir(paths.retry, { recursive: true });
  await recoverQuarantine(pipeline);
  let lastQuarantineEvent = -Infinity;
  const onEntry = async (path: string, origin: EntryOrigin) => {
    // a full dead-letter area stops intake for this agent only, until an operator acts
    if (await countDead(paths.dead) >= ctx.capset.limits.max_quarantine) {
      if (clock.now() - lastQuarantineEvent >= QUARANTINE_EVENT_INTERVAL_MS) {
        lastQuarantineEvent = clock.now();
        await sink.emit({
          type: "quarantine_limit_exceeded",
          reason: "handler_error",
          detail: { limit: ctx.capset.limits.max_quarantine },
        });
      }
      return;
    }
    await processEntry({ ...pipeline, path, origin });
    if (ctx.toolgate?.stopped === true) {
      console.error(`${me}: a tool timed out; exiting so the supervisor restarts this agent`);
      controller.abort();
    }
  };
  const transport = await (options.openInbox ?? watchInbox)({
    inbox: paths.inbox,
    senders: ctx.capset.receives.map((r) => r.from),
    retryDir: paths.retry,
    onEntry,
    signal: controller.signal,
    onError: (err: unknown) => console.error(`${me}: ${errorMessage(err)}`),
    reconcileMs: ctx.handover.reconcile_ms,
  });
  return { transport, close: () => replay.close() };
}
