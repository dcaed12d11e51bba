/**
 * `saoe dev inject AGENT FILE --as SENDER`: drops FILE into
 * `agents/AGENT/inbox/SENDER/` atomically (temp file, fsync, rename to
 * `<envelope_id>.satl`, or a random UUID name when FILE carries no envelope id),
 * exactly as a sender writes. It runs as the operator, outside the sandbox
 * (a real agent can write only its own subfolder of a peer's inbox): a developer
 * tool for reproducing a threat by hand, see `docs/dev-tools.md`.
 *
 * @module
 */
import { AGENT_ID_RE } from "../../core/primitives/ids/patterns.ts";
import { injectFile, peekEnvelopeId } from "../../core/devtools/dev/inject.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { jsonText } from "../_support/output.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["dev", "inject"];
/** Larger than any envelope limit, so an oversize test file can still be injected. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** `saoe dev inject`. */
export const devInjectCommand: Command = {
  path: PATH,
  summary: "drop a file into an agent's inbox as a sender would (developer tool)",
  usage: "AGENT FILE --as SENDER",
  description: [
    "A developer tool. Writes FILE into agents/AGENT/inbox/SENDER/ the way SENDER would: a temp",
    "file, fsync, then a rename to <envelope_id>.satl (the id read from FILE's payload when it",
    "has a well-formed one, else a random UUID). The receiving agent then validates it like any",
    "other entry and audits the outcome (validated, or rejected with a reason code).",
    "",
    "It runs as root/the operator and bypasses the sandbox: a real agent can write only its",
    "own folder of a peer's inbox, this command can write any. Use it on development homes to",
    'reproduce a threat by hand; craft the file with "saoe dev envelope". See docs/dev-tools.md.',
  ].join("\n"),
  options: {
    as: { type: "string", value: "SENDER", help: "the sender folder to write" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const [agentText, file, ...rest] = ctx.positionals;
      if (agentText === undefined || file === undefined) {
        throw new UsageError("Expected AGENT FILE");
      }
      if (rest.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(rest[0])}`);
      const receiver = patternOption(agentText, AGENT_ID_RE, "AGENT", "an agent id");
      const asText = ctx.values.as;
      if (typeof asText !== "string") throw new UsageError("Missing --as SENDER");
      const sender = patternOption(asText, AGENT_ID_RE, "--as", "an agent id");
      let bytes: Uint8Array;
      try {
        const info = await Deno.stat(file);
        if (!info.isFile || info.size > MAX_FILE_BYTES) {
          throw new Error(`not a regular file of at most ${MAX_FILE_BYTES} bytes`);
        }
        bytes = await Deno.readFile(file);
      } catch (err: unknown) {
        throw new UsageError(
          `Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const { home } = await openHome(ctx.global.home);
      const path = await injectFile({ home, receiver, sender, bytes });
      const envelopeId = peekEnvelopeId(bytes);
      if (ctx.global.json) {
        ctx.out(jsonText({ ok: true, path, envelope_id: envelopeId ?? null }));
      } else {
        ctx.out(
          `Injected ${file} as ${path}${
            envelopeId === undefined ? " (no envelope id: random name)" : ""
          }`,
        );
        ctx.out(
          `Follow it with: saoe audit events --home ${home.root}${
            envelopeId !== undefined ? "" : " --type rejected"
          }`,
        );
      }
      return EXIT.ok;
    });
  },
};
