/**
 * Sending: the signed envelope's bytes are written atomically (temp + fsync +
 * rename) into the sender's own subfolder of the receiver's inbox,
 * `agents/<receiver>/inbox/<sender>/<envelope_id>.satl` — the only folder of another
 * agent a sender may write. Signing happens before, in the envelope module.
 *
 * @module
 */
import { join } from "node:path";
import { type HomeLayout, inboxFromDir, SHARED_FILE_MODE } from "../home/layout.ts";
import { assertIdentifier, UUID_RE } from "../../primitives/ids/patterns.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

/** Options for {@linkcode sendEnvelope}. */
export interface SendEnvelopeOptions {
  /** The runtime home. */
  home: HomeLayout;
  /** This agent. */
  sender: string;
  /** The receiving agent. */
  receiver: string;
  /** The envelope's id (lowercase UUID): the file name. */
  envelopeId: string;
  /** The signed DSSE envelope's exact bytes. */
  bytes: Uint8Array;
  /** Runs once the envelope is durable, just before the receiver can see it. */
  beforeDeliver?: () => Promise<void>;
}

/**
 * Delivers an envelope into the receiver's inbox; returns the entry's path.
 *
 * @example
 * ```ts
 * import { sendEnvelope } from "./send.ts";
 * import { homeLayout } from "../home/layout.ts";
 * const root = await Deno.makeTempDir();
 * const home = homeLayout(root);
 * await Deno.mkdir(`${root}/agents/planner/inbox/intake`, { recursive: true });
 * const path = await sendEnvelope({
 *   home, sender: "intake", receiver: "planner",
 *   envelopeId: crypto.randomUUID(), bytes: new TextEncoder().encode("{}"),
 * });
 * if (await Deno.readTextFile(path) !== "{}") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function sendEnvelope(options: SendEnvelopeOptions): Promise<string> {
  const id = assertIdentifier(options.envelopeId, UUID_RE, "envelope id");
  const path = join(inboxFromDir(options.home, options.receiver, options.sender), `${id}.satl`);
  await writeFileAtomic(
    path,
    options.bytes,
    // the receiver reads it through the inbox folder's group (set-group-id, its own)
    options.beforeDeliver !== undefined
      ? { beforeCommit: options.beforeDeliver, mode: SHARED_FILE_MODE }
      : { mode: SHARED_FILE_MODE },
  );
  return path;
}
