/**
 * `saoe submit`: sends an article (and up to two images) to the running
 * pipeline's intake API with the operator credential, prints the session and
 * where the article will appear, and with `--wait` follows the session through
 * the audit ledger (opened read-only) until it is published or refused.
 *
 * @module
 */
import { basename } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import { homeLayout, ledgerPath, sessionDir } from "../../core/domain/home/layout.ts";
import { intakeUrlOf } from "../_support/intake_address.ts";
import { readOperatorToken } from "../../core/domain/keys/operator_token.ts";
import { type Ledger, openLedger } from "../../core/domain/ledger/ledger.ts";
import type { AuditEvent } from "../../core/domain/ledger/events.ts";
import {
  type ClientImage,
  DEFAULT_INTAKE_URL,
  type SubmitAnswer,
  submitArticle,
} from "../../core/services/intake/client.ts";
import { type FollowOutcome, followSession } from "../../core/services/intake/follow.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";

const DEFAULT_TIMEOUT_S = 60;
/** Largest markdown file read, in bytes (intake refuses more than 200,000 characters anyway). */
const MAX_MARKDOWN_FILE_BYTES = 1024 * 1024;
/** Largest image file read (intake refuses more than 20 MiB anyway). */
const MAX_IMAGE_FILE_BYTES = 20 * 1024 * 1024;

function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === "string" ? value : undefined;
}

async function readLimited(
  path: string,
  max: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw new SaoeError("io_error", `Cannot read ${what} ${path}: no such file`, { file: path });
  }
  if (!info.isFile) {
    throw new SaoeError("io_error", `Cannot read ${what} ${path}: not a regular file`, {
      file: path,
    });
  }
  if (info.size > max) {
    throw new SaoeError(
      "size_exceeded",
      `Cannot send ${what} ${path}: ${info.size} bytes exceeds the limit of ${max}`,
      { file: path },
    );
  }
  return await Deno.readFile(path);
}

async function readCredential(ctx: CommandContext, keysDir: string): Promise<string> {
  const file = stringOption(ctx, "credential-file");
  if (file === undefined) return await readOperatorToken(keysDir, "operator");
  const text = new TextDecoder().decode(await readLimited(file, 4096, "credential file")).trim();
  if (!/^[\x21-\x7e]{1,256}$/.test(text)) {
    throw new SaoeError("parse_error", `Invalid credential in ${file}: expected one token`, {
      file,
    });
  }
  return text;
}

function describe(event: AuditEvent): string {
  const d = event.detail ?? {};
  const extra: string[] = [];
  if (event.reason !== undefined) extra.push(`reason=${event.reason}`);
  for (const key of ["to", "template", "tool", "message"]) {
    const value = d[key];
    if (typeof value === "string") extra.push(`${key}=${value.slice(0, 120)}`);
  }
  return `${event.at}  ${event.agent.padEnd(15)} ${event.type.padEnd(16)} ${extra.join(" ")}`
    .trimEnd();
}

function parseTimeout(ctx: CommandContext): number | undefined {
  const raw = stringOption(ctx, "timeout");
  if (raw === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(raw);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || seconds <= 0 || seconds > 86_400) return undefined;
  return seconds * 1000;
}

async function openForWait(home: string): Promise<Ledger> {
  const path = ledgerPath(homeLayout(home));
  try {
    return await openLedger({ path, readOnly: true });
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SaoeError(
      "io_error",
      `Cannot follow the session: ${why}; is \`deno task pipeline\` running with this --home?`,
      { file: path },
    );
  }
}

function refusalLine(answer: Extract<SubmitAnswer, { ok: false }>): string {
  const retry = answer.retry_after !== undefined ? `; retry in ${answer.retry_after} s` : "";
  return `saoe submit: intake refused the submission (HTTP ${answer.status}): ${answer.error} (${answer.reason})${retry}`;
}

/** `saoe submit`. */
export const submitCommand: Command = {
  path: ["submit"],
  summary: "submit an article (and images) to the running pipeline",
  usage: "--title T (--markdown S | --markdown-file F) [--image F]… [--wait]",
  description:
    "Sends an article to the intake API of the running pipeline (POST /api/submit on loopback)\n" +
    "with the operator credential from <home>/keys/operator-operator.token, and prints the\n" +
    "session id and where the article will be published. With --wait, follows the session in\n" +
    "the audit ledger and exits 0 once it is published, 1 if any stage refuses it (with the\n" +
    "reason) or after --timeout seconds. Exits 1 with intake's reason when intake refuses it.",
  options: {
    title: { type: "string", value: "T", help: "the article's title (1 to 200 characters)" },
    markdown: { type: "string", value: "S", help: "the article's body as markdown" },
    "markdown-file": { type: "string", value: "F", help: "read the body from a file" },
    image: {
      type: "string",
      multiple: true,
      value: "F",
      help: "attach a JPEG or PNG (at most 2, 20 MiB each)",
    },
    wait: { type: "boolean", help: "follow the session until it is published or refused" },
    timeout: { type: "string", value: "S", help: `--wait gives up after S seconds (default 60)` },
    url: {
      type: "string",
      value: "URL",
      help:
        `intake's address (default: where the home's running intake listens, else ${DEFAULT_INTAKE_URL})`,
    },
    "credential-file": {
      type: "string",
      value: "F",
      help: "read the credential from F instead of the home's key store",
    },
  },
  async run(ctx) {
    const title = stringOption(ctx, "title");
    const inline = stringOption(ctx, "markdown");
    const markdownFile = stringOption(ctx, "markdown-file");
    const timeoutMs = parseTimeout(ctx);
    if (title === undefined || (inline === undefined) === (markdownFile === undefined)) {
      ctx.err(
        'saoe submit: expected --title and exactly one of --markdown or --markdown-file; see "saoe submit --help"',
      );
      return EXIT.usage;
    }
    if (timeoutMs === undefined) {
      ctx.err("saoe submit: --timeout expects a number of seconds between 0 and 86400");
      return EXIT.usage;
    }
    const given = stringOption(ctx, "url");
    if (given !== undefined && !/^http:\/\/127\.0\.0\.1:[0-9]{1,5}\/?$/.test(given)) {
      ctx.err("saoe submit: --url expects http://127.0.0.1:PORT (intake listens on loopback only)");
      return EXIT.usage;
    }
    const home = homeLayout(ctx.global.home);
    const url = given ?? await intakeUrlOf(home);
    const markdown = inline ?? new TextDecoder("utf-8", { fatal: true }).decode(
      await readLimited(markdownFile!, MAX_MARKDOWN_FILE_BYTES, "markdown file"),
    );
    const imagePaths = (ctx.values.image as string[] | undefined) ?? [];
    const images: ClientImage[] = [];
    for (const path of imagePaths) {
      images.push({
        name: basename(path),
        bytes: await readLimited(path, MAX_IMAGE_FILE_BYTES, "image"),
      });
    }
    const credential = await readCredential(ctx, home.keys);
    const wait = ctx.values.wait === true;
    // opened before submitting: the first events of the session may land at once
    const ledger = wait ? await openForWait(home.root) : undefined;
    try {
      const afterSeq = ledger?.head().size ?? 0;
      const answer = await submitArticle({ url, credential, title, markdown, images });
      if (!answer.ok) {
        if (ctx.global.json) ctx.out(JSON.stringify(answer));
        else ctx.err(refusalLine(answer));
        return EXIT.failure;
      }
      const session = answer.session_id;
      const result = {
        ok: true,
        session_id: session,
        image_count: answer.image_count,
        article: `${sessionDir(home, "output", session)}/index.html`,
        viewer_path: `/output/${session}/`,
      };
      if (!ctx.global.json) {
        ctx.out(`session ${session}`);
        ctx.out(`article ${result.article} (viewer: ${result.viewer_path})`);
      }
      if (ledger === undefined) {
        if (ctx.global.json) ctx.out(JSON.stringify(result));
        return EXIT.ok;
      }
      const events: AuditEvent[] = [];
      const end: FollowOutcome = await followSession({
        ledger,
        session,
        afterSeq,
        timeoutMs,
        onEvent(event) {
          events.push(event);
          if (!ctx.global.json) ctx.out(describe(event));
        },
      });
      const published = end.outcome === "published";
      if (ctx.global.json) {
        ctx.out(JSON.stringify({
          ...result,
          ok: published,
          outcome: end.outcome,
          ...(end.outcome === "failed"
            ? { reason: end.event.reason ?? "handler_error", failed_at: end.event.agent }
            : {}),
          events: events.map((e) => ({
            type: e.type,
            agent: e.agent,
            at: e.at,
            ...(e.reason !== undefined ? { reason: e.reason } : {}),
          })),
        }));
      } else if (end.outcome === "published") {
        ctx.out(`published: ${result.article}`);
      } else if (end.outcome === "failed") {
        const message = end.event.detail?.message;
        ctx.err(
          `saoe submit: session ${session} failed at ${end.event.agent} (${end.event.type}): ${
            end.event.reason ?? "handler_error"
          }${typeof message === "string" ? `: ${message.slice(0, 300)}` : ""}`,
        );
      } else {
        ctx.err(
          `saoe submit: session ${session} not published within ${
            timeoutMs / 1000
          } s; see "saoe audit events --session ${session}"`,
        );
      }
      return published ? EXIT.ok : EXIT.failure;
    } finally {
      ledger?.close();
    }
  },
};
