/**
 * The deployment agent: joins each session's formatted article and sanitised
 * images in its private store, and publishes the session once the article and
 * every image it announced are there (an image session never publishes
 * text-only): images verified against their signed SHA-256 and copied to
 * `output/<session>/img/`, the body re-sanitised, `output/<session>/index.html`
 * written atomically, `published` reported exactly once with the SHA-256 of
 * every file written (`detail.files`). The envelope that completed a session,
 * resumed after a crash that came between the publication and its report,
 * reports it again from the page on disk (the supervisor keeps the first
 * `published` of a session); any other part arriving after publication is
 * refused and dead-lettered. The page is never rewritten.
 *
 * @module
 */
import { join } from "node:path";
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import { SaoeError } from "../core/primitives/errors.ts";
import { systemClock } from "../core/primitives/time/clock.ts";
import {
  formattedArticle,
  readPayload,
  sanitizedImage,
} from "../core/services/deployment/payloads.ts";
import { JoinStore } from "../core/services/deployment/join_state.ts";
import { loadHtmlSanitizer } from "../core/services/deployment/html_sanitizer.ts";
import { joinPart, type Part } from "../core/services/deployment/output.ts";
import type { Envelope } from "../core/domain/validate/envelope.ts";

function partOf(envelope: Envelope): Part {
  const envelope_id = envelope.envelope_id;
  switch (envelope.template.id) {
    case "formatted_article": {
      const a = readPayload(formattedArticle, envelope.payload, envelope.template.id);
      return { kind: "article", part: { envelope_id, ...a } };
    }
    case "sanitized_image": {
      const i = readPayload(sanitizedImage, envelope.payload, envelope.template.id);
      return { kind: "image", part: { envelope_id, ...i } };
    }
    default:
      throw new SaoeError(
        "edge_not_allowed",
        `Cannot deploy template ${
          JSON.stringify(envelope.template.id)
        }: deployment joins formatted_article and sanitized_image`,
        { envelope_id, session_id: envelope.session_id },
      );
  }
}

/** The deployment agent. */
export const deployment: AgentDefinition = {
  name: "deployment",
  start() {
    // jsdom (~50 MiB) loads with the first article, not at start: an idle
    // pipeline that published nothing yet does not carry it. A broken install
    // still shows at start: both packages must resolve.
    import.meta.resolve("jsdom");
    import.meta.resolve("dompurify");
    return Promise.resolve();
  },
  async handle(ctx, { envelope }) {
    const outcome = await joinPart({
      home: ctx.home,
      store: new JoinStore(join(ctx.storeDir, "sessions")),
      session: envelope.session_id,
      part: partOf(envelope),
      sanitizer: loadHtmlSanitizer,
      clock: systemClock,
    });
    if (outcome.status === "published") {
      await ctx.emit({
        type: "published",
        session_id: envelope.session_id,
        envelope_id: envelope.envelope_id,
        // files: the SHA-256 of every file written, which the viewer serves nothing without
        detail: {
          path: outcome.publication.path,
          images: outcome.publication.images,
          files: outcome.publication.files,
        },
      });
    }
  },
};

if (import.meta.main) await runAgent(deployment);
