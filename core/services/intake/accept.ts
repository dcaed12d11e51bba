/**
 * Accepting a checked submission: a new session, each image staged atomically as
 * `uploads/<session>/<sha256>.<jpg|png>` in a fresh 0700 folder, then one
 * `blog_article_intent` and one `image_process_intent` per image sent to
 * sanitization in that session, then `intake_accepted`. If any step fails, what
 * was staged and what was queued is removed again before the error propagates,
 * so a failed request leaves nothing behind for the pipeline to pick up.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import {
  inboxFromDir,
  sessionDir,
  SHARED_DIR_MODE,
  SHARED_FILE_MODE,
} from "../../domain/home/layout.ts";
import type { AgentContext } from "../runtime/agent_runtime.ts";
import type { OperatorToken } from "../runtime/protocol.ts";
import type { Submission } from "./submission.ts";

/** The agent this intake sends to. */
export const INTAKE_RECEIVER = "sanitization";

/** What a successful submission answers. */
export interface Accepted {
  session_id: string;
  image_count: number;
}

/** The parts of the agent context accepting needs. */
export type AcceptContext = Pick<AgentContext, "agent" | "home" | "send" | "emit">;

async function removeQuietly(path: string, recursive = false): Promise<void> {
  await Deno.remove(path, { recursive }).catch((err: unknown) => {
    if (!(err instanceof Deno.errors.NotFound)) {
      console.error(`intake: cannot remove ${path}: ${String(err)}`);
    }
  });
}

/**
 * Stages, sends and audits one submission; returns its session.
 *
 * @example
 * ```ts ignore
 * const { session_id } = await acceptSubmission(ctx, submission, credential);
 * ```
 */
export async function acceptSubmission(
  ctx: AcceptContext,
  submission: Submission,
  credential: OperatorToken,
): Promise<Accepted> {
  const session = crypto.randomUUID();
  const folder = sessionDir(ctx.home, "uploads", session);
  const sent: string[] = [];
  let staged = false;
  try {
    const files: { name: string; sha256: string; mediaType: string }[] = [];
    if (submission.images.length > 0) {
      // not recursive: uploads/ must already be there, and a fresh session folder is new
      await Deno.mkdir(folder, { mode: SHARED_DIR_MODE });
      staged = true;
      const written = new Set<string>();
      for (const image of submission.images) {
        const sha256 = await sha256Hex(image.bytes);
        const name = `${sha256}.${image.ext}`;
        if (!written.has(name)) {
          await writeFileAtomic(join(folder, name), image.bytes, {
            overwrite: false,
            mode: SHARED_FILE_MODE,
          });
          written.add(name);
        }
        files.push({ name, sha256, mediaType: image.mediaType });
      }
    }
    const imageCount = files.length;
    sent.push(
      await ctx.send({
        to: INTAKE_RECEIVER,
        template: "blog_article_intent",
        payload: {
          title: submission.title,
          markdown: submission.markdown,
          image_count: imageCount,
        },
        sessionId: session,
        humanReadable: `article with ${imageCount} image(s) from credential ${credential.id}`,
      }),
    );
    for (const [index, file] of files.entries()) {
      sent.push(
        await ctx.send({
          to: INTAKE_RECEIVER,
          template: "image_process_intent",
          payload: {
            upload_file: file.name,
            sha256: file.sha256,
            media_type: file.mediaType,
            index,
          },
          sessionId: session,
          humanReadable: `image ${index + 1} of ${imageCount} (${file.mediaType})`,
        }),
      );
    }
    await ctx.emit({
      type: "intake_accepted",
      session_id: session,
      detail: { credential: credential.id, image_count: imageCount },
    });
    return { session_id: session, image_count: imageCount };
  } catch (err: unknown) {
    const queue = inboxFromDir(ctx.home, INTAKE_RECEIVER, ctx.agent);
    for (const id of sent) await removeQuietly(join(queue, `${id}.satl`));
    if (staged) await removeQuietly(folder, true);
    throw err;
  }
}
