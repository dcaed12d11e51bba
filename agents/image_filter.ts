/**
 * The image_filter agent: reads the staged upload from `uploads/<session>/`
 * (a regular file with one link, at most 20 MiB, hashing to the SHA-256 the
 * signed envelope names), sanitises it with the `image_sanitize` tool through
 * ToolGate under the planner's plan bound to this envelope, writes the result
 * content-addressed to `media/<session>/<sha256>.<ext>` and tells deployment.
 *
 * @module
 */
import { type AgentDefinition, runAgent } from "../core/services/runtime/agent_runtime.ts";
import { SaoeError } from "../core/primitives/errors.ts";
import { utf8 } from "../core/primitives/crypto/bytes.ts";
import {
  imageFilterPlan,
  type ImageMediaType,
  readPayload,
} from "../core/services/deployment/payloads.ts";
import { readUpload, writeMedia } from "../core/services/deployment/media.ts";

const OUTPUT_TYPES: readonly string[] = ["image/jpeg", "image/png"];

/** The image_filter agent. */
export const imageFilter: AgentDefinition = {
  name: "image_filter",
  async handle(ctx, { envelope }) {
    const session = envelope.session_id;
    const ids = { envelope_id: envelope.envelope_id, session_id: session };
    const image = readPayload(imageFilterPlan, envelope.payload, envelope.template.id);
    if (ctx.toolgate === undefined) {
      throw new SaoeError(
        "tool_not_allowed",
        "Cannot sanitise images: this agent has no ToolGate",
        ids,
      );
    }
    const input = await readUpload({
      home: ctx.home,
      session,
      file: image.upload_file,
      sha256: image.sha256,
    });
    const result = await ctx.toolgate.execute({
      planBytes: utf8(image.plan),
      envelopeId: envelope.envelope_id,
      sessionId: session,
      inputs: new Map([["c1", input]]),
    });
    const output = result.outputs.get("c1");
    if (
      output === undefined || !OUTPUT_TYPES.includes(output.media_type) ||
      output.width === undefined || output.height === undefined
    ) {
      throw new SaoeError(
        "handler_error",
        `Cannot sanitise image ${image.upload_file}: plan ${result.plan_id} produced no JPEG or PNG with dimensions`,
        ids,
      );
    }
    const mediaType = output.media_type as ImageMediaType;
    const written = await writeMedia({
      home: ctx.home,
      session,
      bytes: new Uint8Array(output.bytes),
      mediaType,
    });
    await ctx.send({
      to: "deployment",
      template: "sanitized_image",
      payload: {
        file: written.file,
        sha256: written.sha256,
        media_type: mediaType,
        width: output.width,
        height: output.height,
        index: image.index,
      },
      sessionId: session,
      humanReadable: `sanitised image ${image.index} (${output.width}x${output.height})`,
    });
  },
};

if (import.meta.main) await runAgent(imageFilter);
