/**
 * The operator journal `audit/operator_actions.jsonl`: one JSON line per
 * operator action on queued data (`saoe quarantine retry|drop`) or on the vault
 * (`saoe publish`), appended by the CLI.
 *
 * Why not the ledger: the supervisor is the ledger's single writer while it runs,
 * and the ledger's event types (docs/design.md section 7) have none for an operator
 * action, so the CLI must not append one. The journal lives in `audit/`, which no
 * agent may write (the capset function refuses it) and the viewer may read. A
 * retried envelope also reappears in the ledger on its own: the agent audits it
 * again as `validated`/`rejected` under the same envelope id.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import type { HomeLayout } from "../home/layout.ts";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import { jsonText } from "../../primitives/json/inert_json.ts";

/** One recorded operator action. */
export type OperatorAction = QuarantineAction | PublishAction | PublishToolsAction;

/** A dead-letter entry retried or dropped. */
export interface QuarantineAction {
  at: string;
  action: "quarantine_retry" | "quarantine_drop";
  agent: string;
  /** The dead-letter key. */
  key: string;
  /** The reason code the entry was dead-lettered with, when known. */
  code?: string;
  envelope_id?: string;
  session_id?: string;
  /** Where a retried entry was moved. */
  moved_to?: string;
  /** Whether a supervisor was running (the agent picks a retry up at once). */
  pipeline_running: boolean;
}

/** A template or capability set published (`saoe publish`). */
export interface PublishAction {
  at: string;
  action: "publish";
  kind: "template" | "capset";
  /** Template id, or the agent of a capability set. */
  id: string;
  version: number;
  previous_version: number;
  /** Hex SHA-256 of the exact source bytes the operator confirmed. */
  sha256: string;
  /** How the hash was confirmed. */
  confirmed_by: "terminal" | "flag";
  /** Vault files written. */
  files: string[];
  /** Whether a supervisor was running (it picks the change up on SIGHUP or restart). */
  pipeline_running: boolean;
}

/** The built-in tools re-pinned (`saoe publish --tools`). */
export interface PublishToolsAction {
  at: string;
  action: "publish_tools";
  version: number;
  previous_version: number;
  /** Hex SHA-256 of the new tool list the operator confirmed. */
  sha256: string;
  /** Each tool whose pin changed, with the old and new module digests. */
  tools: { name: string; from: string | null; to: string | null }[];
  confirmed_by: "terminal" | "flag";
  files: string[];
  pipeline_running: boolean;
}

/** `audit/operator_actions.jsonl`. */
export function operatorJournalPath(home: HomeLayout): string {
  return join(home.audit, "operator_actions.jsonl");
}

/**
 * Appends one action (a single `write` with `O_APPEND`, so concurrent CLI runs
 * do not interleave lines). Refuses a journal that is not a regular file.
 *
 * @example
 * ```ts
 * import { appendOperatorAction, operatorJournalPath } from "./operator_journal.ts";
 * import { homeLayout } from "../home/layout.ts";
 * const dir = await Deno.makeTempDir();
 * const home = homeLayout(dir);
 * await Deno.mkdir(home.audit);
 * await appendOperatorAction(home, {
 *   at: "2026-01-01T00:00:00Z", action: "quarantine_drop", agent: "planner",
 *   key: "00000000-0000-4000-8000-000000000000", pipeline_running: false,
 * });
 * if (!(await Deno.readTextFile(operatorJournalPath(home))).includes("quarantine_drop")) {
 *   throw new Error();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function appendOperatorAction(
  home: HomeLayout,
  action: OperatorAction,
): Promise<void> {
  const path = operatorJournalPath(home);
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info !== undefined && (!info.isFile || info.isSymlink)) {
    // a planted link would make the operator's CLI append to a file elsewhere
    throw new SaoeError("unsafe_path", `Cannot record the action in ${path}: not a regular file`);
  }
  const file = await Deno.open(path, { append: true, create: true, mode: 0o600 });
  try {
    const bytes = utf8(`${jsonText(action)}\n`);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}
