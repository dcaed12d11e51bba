/**
 * The report of `saoe capset check`: one finding per problem, each naming the
 * file it lies in, the agent concerned (`-` when none, e.g. a template or the
 * trust root) and a stable reason code. Both the sources check and the home
 * check produce it; a problem reading or verifying a file becomes a finding, not
 * a crash, so one bad file never hides the others.
 *
 * @module
 */
import { isSaoeError, type ReasonCode } from "../../primitives/errors.ts";
import type { Finding, FindingReason } from "../../domain/capset/check.ts";

/** Why a file fails the check: a structural reason, a file-level one or a refusal code. */
export type CheckReason =
  | FindingReason
  | "decode_error"
  | "name_mismatch"
  | "missing_file"
  | ReasonCode;

/** One problem with the file it lies in. */
export interface FileFinding {
  /** The file (as the operator named its folder), e.g. `vault/capsets/planner.json`. */
  file: string;
  /** The agent concerned, or `-`. */
  agent: string;
  reason: CheckReason;
  detail: string;
}

/** Everything one check found; `ok` exactly when there is no finding. */
export interface CheckReport {
  ok: boolean;
  findings: FileFinding[];
  /** How many capability sets and templates were looked at. */
  checked: { capsets: number; templates: number };
}

/** The agent field of a finding that concerns no single agent. */
export const NO_AGENT = "-";

/**
 * Turns a refusal thrown while reading or verifying `file` into a finding with
 * the refusal's code; a missing file is `missing_file`, another I/O failure
 * `io_error`. Programmer errors (not a refusal, not an I/O error) are rethrown.
 *
 * @example
 * ```ts
 * import { findingFromError } from "./check_report.ts";
 * import { SaoeError } from "../../primitives/errors.ts";
 * const f = findingFromError(new SaoeError("expired", "Cannot accept x: expired"), "a.age", "planner");
 * if (f.reason !== "expired" || f.file !== "a.age") throw new Error();
 * ```
 */
export function findingFromError(err: unknown, file: string, agent: string): FileFinding {
  if (isSaoeError(err)) return { file, agent, reason: err.code, detail: err.message };
  if (err instanceof Deno.errors.NotFound) {
    return { file, agent, reason: "missing_file", detail: "the file does not exist" };
  }
  if (err instanceof Error && Object.values(Deno.errors).some((E) => err instanceof E)) {
    return { file, agent, reason: "io_error", detail: `${err.name}: ${err.message}` };
  }
  throw err;
}

/**
 * Attaches files to structural findings: a policy finding lies in its template's
 * file, every other one in the capset file of its agent.
 *
 * @example
 * ```ts
 * import { placeFindings } from "./check_report.ts";
 * const [f] = placeFindings([{ agent: "planner", reason: "unknown_tool", detail: "d" }], {
 *   capsetFile: (a) => `capsets/${a}.json`, templateFile: (t) => `templates/${t}.json`,
 * });
 * if (f!.file !== "capsets/planner.json") throw new Error();
 * ```
 */
export function placeFindings(
  findings: readonly Finding[],
  files: {
    capsetFile(agent: string, reason: FindingReason): string;
    templateFile(template: string): string;
  },
): FileFinding[] {
  return findings.map((f) => ({
    file: f.template !== undefined
      ? files.templateFile(f.template)
      : files.capsetFile(f.agent, f.reason),
    agent: f.agent,
    reason: f.reason,
    detail: f.detail,
  }));
}

/**
 * Builds the report: findings sorted by file, agent, reason and detail.
 *
 * @example
 * ```ts
 * import { checkReport } from "./check_report.ts";
 * const r = checkReport([], { capsets: 6, templates: 6 });
 * if (!r.ok) throw new Error();
 * ```
 */
export function checkReport(
  findings: readonly FileFinding[],
  checked: { capsets: number; templates: number },
): CheckReport {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...findings].sort((a, b) =>
    cmp(a.file, b.file) || cmp(a.agent, b.agent) || cmp(a.reason, b.reason) ||
    cmp(a.detail, b.detail)
  );
  return { ok: sorted.length === 0, findings: sorted, checked: { ...checked } };
}
