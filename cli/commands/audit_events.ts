/**
 * `saoe audit events`: reads the audit ledger read-only and prints its events,
 * filtered by session, type or agent, optionally following new ones. Filter
 * values are checked against the strict identifier patterns before any use, and
 * every printed field is inert text (see `cli/_support/output.ts`).
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { decodeEvent, EVENT_TYPES, type EventType } from "../../core/domain/ledger/events.ts";
import { type Ledger, MAX_READ } from "../../core/domain/ledger/ledger.ts";
import { AGENT_ID_RE, UUID_RE } from "../../core/primitives/ids/patterns.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { openHome } from "../_support/home.ts";
import { openLedgerForReading } from "../_support/ledger_access.ts";
import { type DecodedRecord, eventJson, eventLine } from "../_support/event_line.ts";
import { jsonText } from "../_support/output.ts";
import { intOption, patternOption, UsageError, withUsage } from "../_support/usage.ts";

const PATH = ["audit", "events"];
const FOLLOW_INTERVAL_MS = 250;

interface Filter {
  session?: string;
  type?: EventType;
  agent?: string;
}

function parseFilter(values: CommandContext["values"]): Filter {
  const filter: Filter = {};
  if (typeof values.session === "string") {
    filter.session = patternOption(values.session, UUID_RE, "--session", "a lowercase UUID");
  }
  if (typeof values.type === "string") {
    const type = values.type;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(
        `Invalid --type ${JSON.stringify(type.slice(0, 40))}: expected one of ${
          EVENT_TYPES.join(", ")
        }`,
      );
    }
    filter.type = type as EventType;
  }
  if (typeof values.agent === "string") {
    filter.agent = patternOption(
      values.agent,
      AGENT_ID_RE,
      "--agent",
      "an agent id (lowercase letters, digits, _)",
    );
  }
  return filter;
}

function decode(seq: number, bytes: Uint8Array): DecodedRecord {
  try {
    return { seq, event: decodeEvent(bytes) };
  } catch (err: unknown) {
    return { seq, problem: err instanceof Error ? err.message : String(err) };
  }
}

function matches(record: DecodedRecord, filter: Filter): boolean {
  if ("problem" in record) {
    // an undecodable record cannot be attributed: shown only when nothing is filtered
    return filter.session === undefined && filter.type === undefined && filter.agent === undefined;
  }
  const e = record.event;
  return (filter.session === undefined || e.session_id === filter.session) &&
    (filter.type === undefined || e.type === filter.type) &&
    (filter.agent === undefined || e.agent === filter.agent);
}

/** Reads matching records after `afterSeq`; returns them and the last seq read. */
function readMatching(
  ledger: Ledger,
  afterSeq: number,
  filter: Filter,
  limit: number | undefined,
): { records: DecodedRecord[]; lastSeq: number } {
  let records: DecodedRecord[] = [];
  let last = afterSeq;
  for (;;) {
    const page = ledger.read({ afterSeq: last, limit: MAX_READ });
    for (const row of page) {
      const record = decode(row.seq, row.bytes);
      if (matches(record, filter)) {
        records.push(record);
        // keep only the newest `limit` matches: memory stays bounded on a big ledger
        if (limit !== undefined && records.length > 2 * limit) records = records.slice(-limit);
      }
      last = row.seq;
    }
    if (page.length < MAX_READ) break;
  }
  return { records: limit === undefined ? records : records.slice(-limit), lastSeq: last };
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** `saoe audit events [--session ID] [--type T] [--agent A] [--limit N] [--follow]`. */
export const auditEventsCommand: Command = {
  path: PATH,
  summary: "print audit ledger events (filter by session, type, agent; --follow)",
  usage: "[--session ID] [--type T] [--agent A] [--limit N] [--follow]",
  description: [
    "Prints the events of the home's audit ledger in ledger order, one line each: seq, time,",
    "reporting agent, type, session, envelope, reason code and a summary of the details. The",
    "ledger is opened read-only, so this works while the pipeline runs. With --json, one JSON",
    "object per line ({seq, type, at, agent, session_id?, envelope_id?, reason?, detail?}).",
    "",
    "Filters combine (all must match): --session takes a lowercase UUID, --agent an agent id,",
    "--type one of:",
    ...wrap(EVENT_TYPES.join(", "), 88).map((line) => `  ${line}`),
    "--limit N shows only the newest N matches. --follow keeps printing new events as the",
    "supervisor appends them, until Ctrl-C.",
    "",
    "Text from events is printed inert: control and bidi characters appear as \\uXXXX escapes.",
    "",
    "Exit codes: 0 printed (also when nothing matched), 1 no ledger or unreadable, 2 usage.",
  ].join("\n"),
  options: {
    session: { type: "string", value: "ID", help: "only events of this session (lowercase UUID)" },
    type: { type: "string", value: "T", help: "only events of this type, e.g. rejected" },
    agent: { type: "string", value: "A", help: "only events reported by this agent" },
    limit: { type: "string", value: "N", help: "only the newest N matching events" },
    follow: { type: "boolean", short: "f", help: "keep printing new events until Ctrl-C" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      if (ctx.positionals.length > 0) {
        throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
      }
      const filter = parseFilter(ctx.values);
      const limit = intOption(ctx.values.limit, { name: "limit", min: 1, max: 1_000_000 });
      const { home } = await openHome(ctx.global.home);
      const ledger = await openLedgerForReading(home);
      const print = (record: DecodedRecord) =>
        ctx.out(ctx.global.json ? jsonText(eventJson(record)) : eventLine(record));
      try {
        let { records, lastSeq } = readMatching(ledger, 0, filter, limit);
        records.forEach(print);
        if (ctx.values.follow !== true) {
          if (records.length === 0 && !ctx.global.json) {
            ctx.err(`No matching events among ${lastSeq} ledger records`);
          }
          return EXIT.ok;
        }
        const controller = new AbortController();
        const stop = () => controller.abort();
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
        try {
          while (!controller.signal.aborted) {
            await waitOrAbort(FOLLOW_INTERVAL_MS, controller.signal);
            if (controller.signal.aborted) break;
            ({ records, lastSeq } = readMatching(ledger, lastSeq, filter, undefined));
            records.forEach(print);
          }
        } finally {
          Deno.removeSignalListener("SIGINT", stop);
          Deno.removeSignalListener("SIGTERM", stop);
        }
        return EXIT.ok;
      } catch (err: unknown) {
        if (err instanceof SaoeError) throw err;
        throw new SaoeError(
          "io_error",
          `Cannot read the audit ledger: ${err instanceof Error ? err.message : String(err)}`,
        );
      } finally {
        ledger.close();
      }
    });
  },
};
