/**
 * `saoe dev envelope`: crafts a signed SATL envelope with the home's local keys,
 * including deliberately wrong ones (signed by another agent, by a key from a seed
 * file, with a validity window that already ended, a wrong template digest, fields
 * changed after signing), and prints it or writes it to a file. A developer tool
 * for reproducing a threat by hand (see `docs/dev-tools.md`); `saoe dev inject`
 * drops the result into an inbox.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import {
  AGENT_ID_RE,
  SHA256_HEX_RE,
  TEMPLATE_ID_RE,
  UUID_RE,
} from "../../core/primitives/ids/patterns.ts";
import type { JsonObject } from "../../core/primitives/json/strict_parse.ts";
import { parseStrictJson } from "../../core/primitives/json/strict_parse.ts";
import type { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { writeFileAtomic } from "../../core/primitives/fs/atomic_write.ts";
import { craftEnvelope } from "../../core/devtools/dev/craft_envelope.ts";
import { type FieldEdit, parseFieldEdit } from "../../core/devtools/dev/field_edit.ts";
import { agentSigningKey, seedFileSigningKey } from "../../core/devtools/dev/signer.ts";
import { templateRefFromVault } from "../../core/devtools/dev/template_ref.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { jsonText } from "../_support/output.ts";
import { patternOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["dev", "envelope"];
const MAX_PAYLOAD_FILE_BYTES = 64 * 1024 * 1024;
const MAX_EXPIRES_IN_S = 10 * 365 * 86_400;

function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" ? v : undefined;
}

function required(ctx: CommandContext, name: string, expected: string): string {
  const v = str(ctx, name);
  if (v === undefined) throw new UsageError(`Missing --${name} (${expected})`);
  return v;
}

async function readPayload(ctx: CommandContext): Promise<JsonObject> {
  const inline = str(ctx, "payload");
  const file = str(ctx, "payload-file");
  if ((inline === undefined) === (file === undefined)) {
    throw new UsageError("Give exactly one of --payload JSON or --payload-file FILE");
  }
  let bytes: Uint8Array;
  if (inline !== undefined) {
    bytes = new TextEncoder().encode(inline);
  } else {
    try {
      const info = await Deno.stat(file!);
      if (!info.isFile || info.size > MAX_PAYLOAD_FILE_BYTES) {
        throw new Error(`not a regular file of at most ${MAX_PAYLOAD_FILE_BYTES} bytes`);
      }
      bytes = await Deno.readFile(file!);
    } catch (err: unknown) {
      throw new UsageError(
        `Cannot read --payload-file ${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  try {
    return parseStrictJson(bytes, { maxBytes: MAX_PAYLOAD_FILE_BYTES });
  } catch (err: unknown) {
    throw new UsageError(
      `Invalid payload: expected one JSON object (${
        err instanceof Error ? err.message : String(err)
      })`,
    );
  }
}

function edits(ctx: CommandContext, name: string): FieldEdit[] {
  const raw = ctx.values[name];
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === "string") : [];
  return list.map((text) => {
    try {
      return parseFieldEdit(text);
    } catch (err: unknown) {
      throw new UsageError(`--${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

function expiresIn(ctx: CommandContext): number | undefined {
  const text = str(ctx, "expires-in");
  if (text === undefined) return undefined;
  const n = /^-?[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(Math.abs(n) <= MAX_EXPIRES_IN_S)) {
    throw new UsageError(
      `Invalid --expires-in ${
        JSON.stringify(text.slice(0, 40))
      }: expected whole seconds (negative or 0 for a window that already ended)`,
    );
  }
  return n;
}

/** `saoe dev envelope`. */
export const devEnvelopeCommand: Command = {
  path: PATH,
  summary: "craft a signed envelope with local keys (also deliberately bad ones)",
  usage:
    "--from A --to B --template T (--payload JSON | --payload-file F) [--session ID] [--sign-as AGENT | --sign-with-seed FILE] [--tamper field=value]… [--expires-in S] [--out FILE]",
  description: [
    "A developer tool. Builds a SATL envelope from A to B following template T (its version",
    "and SHA-256 read from the home's vault manifest), signs it with A's key from the home's",
    "key store, and prints the .satl bytes (or writes them atomically to --out). Deliberately",
    "wrong envelopes, for reproducing a threat by hand:",
    "  --sign-as AGENT          sign with another agent's key (impersonation)",
    "  --sign-with-seed FILE    sign with the Ed25519 seed in FILE (32 raw bytes, hex or base64)",
    "  --expires-in S           seconds until expiry; 0 or negative (written --expires-in=-600):",
    "                           a window that already ended",
    "  --template-sha256 HEX    claim another template digest",
    "  --set field=value        set a field before signing (signed, e.g. session_id=../x)",
    "  --tamper field=value     change a field after signing (the signature no longer matches)",
    "Fields are dotted paths into the envelope (session_id, receiver, template.id,",
    "payload.title); a value is JSON when it parses as JSON, else text.",
    'Drop the result into an inbox with "saoe dev inject". It reads the key store, so it runs as',
    "the operator; never give it to an agent. See docs/dev-tools.md.",
  ].join("\n"),
  options: {
    from: { type: "string", value: "AGENT", help: "the sender the envelope claims" },
    to: { type: "string", value: "AGENT", help: "the receiver" },
    template: {
      type: "string",
      value: "ID",
      help: "template id (version and digest from the vault)",
    },
    "template-version": { type: "string", value: "N", help: "template version (default newest)" },
    "template-sha256": { type: "string", value: "HEX", help: "claim this template digest instead" },
    payload: { type: "string", value: "JSON", help: "the payload object" },
    "payload-file": { type: "string", value: "FILE", help: "read the payload object from FILE" },
    session: { type: "string", value: "ID", help: "session id (default a new one)" },
    "envelope-id": { type: "string", value: "ID", help: "envelope id (default a new one)" },
    "human-readable": { type: "string", value: "TEXT", help: "the human_readable summary" },
    "sign-as": { type: "string", value: "AGENT", help: "sign with this agent's key instead" },
    "sign-with-seed": { type: "string", value: "FILE", help: "sign with the seed in FILE" },
    set: { type: "string", multiple: true, value: "F=V", help: "set a field before signing" },
    tamper: { type: "string", multiple: true, value: "F=V", help: "change a field after signing" },
    "expires-in": { type: "string", value: "S", help: "seconds until expiry (default 600)" },
    out: { type: "string", value: "FILE", help: "write the envelope to FILE instead of stdout" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const agent = (name: string) =>
        patternOption(required(ctx, name, "an agent id"), AGENT_ID_RE, `--${name}`, "an agent id");
      const from = agent("from");
      const to = agent("to");
      const templateId = patternOption(
        required(ctx, "template", "a template id"),
        TEMPLATE_ID_RE,
        "--template",
        "a template id such as blog_article_intent",
      );
      const versionText = str(ctx, "template-version");
      const version = versionText === undefined
        ? undefined
        : Number(patternOption(versionText, /^[1-9][0-9]{0,8}$/, "--template-version", "N ≥ 1"));
      const digest = str(ctx, "template-sha256");
      if (digest !== undefined) {
        patternOption(digest, SHA256_HEX_RE, "--template-sha256", "64 lowercase hex digits");
      }
      const session = str(ctx, "session");
      if (session !== undefined) {
        patternOption(session, UUID_RE, "--session", "a lowercase UUID (use --set for bad ones)");
      }
      const envelopeId = str(ctx, "envelope-id");
      if (envelopeId !== undefined) {
        patternOption(envelopeId, UUID_RE, "--envelope-id", "a lowercase UUID");
      }
      const signAs = str(ctx, "sign-as");
      const seedFile = str(ctx, "sign-with-seed");
      if (signAs !== undefined && seedFile !== undefined) {
        throw new UsageError("Give at most one of --sign-as and --sign-with-seed");
      }
      const payload = await readPayload(ctx);
      const set = edits(ctx, "set");
      const tamper = edits(ctx, "tamper");
      const expires = expiresIn(ctx);
      const out = str(ctx, "out");

      const { home } = await openHome(ctx.global.home);
      const ref = await templateRefFromVault(home.vault, templateId, version);
      let signer: SigningKey;
      let signedBy: string;
      if (seedFile !== undefined) {
        signer = await seedFileSigningKey(seedFile);
        signedBy = `seed file ${seedFile}`;
      } else {
        const who = signAs === undefined
          ? from
          : patternOption(signAs, AGENT_ID_RE, "--sign-as", "an agent id");
        signer = await agentSigningKey(home, who).catch((err: unknown) => {
          throw new SaoeError(
            "io_error",
            `Cannot load the key of "${who}" from ${home.keys}: ${
              err instanceof Error ? err.message : String(err)
            }`,
          );
        });
        signedBy = `agent ${who}`;
      }
      const crafted = await craftEnvelope({
        from,
        to,
        template: digest === undefined ? ref : { ...ref, sha256: digest },
        payload,
        signer,
        ...(session !== undefined ? { sessionId: session } : {}),
        ...(envelopeId !== undefined ? { envelopeId } : {}),
        ...(str(ctx, "human-readable") !== undefined
          ? { humanReadable: str(ctx, "human-readable")! }
          : {}),
        ...(expires !== undefined ? { expiresInS: expires } : {}),
        set,
        tamper,
      });
      if (out !== undefined) await writeFileAtomic(out, crafted.bytes);
      if (ctx.global.json) {
        ctx.out(jsonText({
          ok: true,
          envelope_id: crafted.envelopeId ?? null,
          session_id: crafted.sessionId ?? null,
          signed_by: signedBy,
          tampered: tamper.map((t) => t.path),
          ...(out !== undefined
            ? { file: out }
            : { envelope: JSON.parse(new TextDecoder().decode(crafted.bytes)) }),
        }));
      } else if (out !== undefined) {
        ctx.out(
          `Wrote envelope ${crafted.envelopeId ?? "(no id)"} to ${out} (signed by ${signedBy}${
            tamper.length > 0 ? `, tampered: ${tamper.map((t) => t.path).join(", ")}` : ""
          })`,
        );
      } else {
        ctx.out(new TextDecoder().decode(crafted.bytes));
      }
      return EXIT.ok;
    });
  },
};
