/**
 * `saoe keys status [--check [--within DAYS]] [--pending FILE]`: every key and
 * every signed statement with an expiry, their fingerprints, windows and days
 * left (`core/services/ceremony/keys_status.ts`); warnings at 7 days and 1 day; `--check`
 * exits 1 when anything expires within DAYS (default 7) days, for cron and CI.
 *
 * @module
 */
import { systemClock } from "../../core/primitives/time/clock.ts";
import {
  collectKeysStatus,
  expiringWithin,
  type KeyRow,
  type StatementRow,
  WARN_DAYS,
} from "../../core/services/ceremony/keys_status.ts";
import { openCeremonyHome } from "../../core/services/ceremony/keys_home.ts";
import { describePendingRoot } from "../../core/services/ceremony/rotate_pending.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { ROOT_MAX_BYTES } from "../../core/domain/trust/root.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { jsonText, renderTable } from "../_support/output.ts";
import { intOption, UsageError, withUsage } from "../_support/usage.ts";
import { pendingLines } from "./keys_rotate.ts";

const PATH = ["keys", "status"];

function label(row: KeyRow | StatementRow): string {
  return "role" in row
    ? `${row.role} key ${row.keyid.slice(0, 16)}… of ${row.subject}`
    : `${row.kind.replace("_", " ")} ${row.name} v${row.version}`;
}

function expiry(row: KeyRow | StatementRow): string {
  return "role" in row ? row.valid_until : row.expires_at;
}

function warning(row: KeyRow | StatementRow): string | undefined {
  const renew = "renew" in row ? ` (renew: ${row.renew})` : "";
  switch (row.level) {
    case "expired":
      return `EXPIRED: ${label(row)} expired at ${expiry(row)}${renew}`;
    case "critical":
      return `CRITICAL: ${label(row)} expires within a day (${expiry(row)})${renew}`;
    case "warn":
      return `WARNING: ${label(row)} expires in ${row.days_left} days (${expiry(row)})${renew}`;
    default:
      return undefined;
  }
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[0])}`);
  }
  const check = ctx.values.check === true;
  const within = intOption(ctx.values.within, { name: "within", min: 0, max: 3650 });
  if (within !== undefined && !check) throw new UsageError("--within applies to --check only");
  const days = within ?? WARN_DAYS;
  const home = ctx.global.home;
  const status = await collectKeysStatus({ home, clock: systemClock });
  let pending;
  const pendingFile = ctx.values.pending === undefined ? undefined : String(ctx.values.pending);
  if (pendingFile !== undefined) {
    const ch = await openCeremonyHome({ home, clock: systemClock, allowExpired: true });
    pending = await describePendingRoot(ch.root, await readTrustFile(pendingFile, ROOT_MAX_BYTES));
  }
  const expiring = check ? expiringWithin(status, days) : [];
  const failed = expiring.length > 0;
  if (ctx.global.json) {
    ctx.out(jsonText({
      ok: !failed,
      ...status,
      ...(check ? { check: { within_days: days, expiring: expiring.map(label) } } : {}),
      ...(pending !== undefined ? { pending } : {}),
    }));
    return failed ? EXIT.failure : EXIT.ok;
  }
  ctx.out(
    `Trust root v${status.root_version}, threshold ${status.root_threshold}; at ${status.at}`,
  );
  ctx.out("");
  ctx.out("Keys:");
  const keyRows = status.keys.map((k) => [
    k.role,
    k.subject,
    k.keyid,
    k.valid_from,
    k.valid_until,
    k.state === "retired" ? "-" : String(k.days_left),
    k.state === "retired" ? "retired" : k.state === "future" ? "not yet valid" : k.level,
    k.on_host === undefined ? "" : k.on_host ? "on this host" : "offline",
  ]);
  const keyHeader = [
    "role",
    "subject",
    "fingerprint",
    "valid from",
    "valid until",
    "days",
    "state",
    "",
  ];
  for (const line of renderTable(keyHeader, keyRows)) ctx.out(`  ${line}`);
  ctx.out("");
  ctx.out("Signed statements:");
  const statementRows = status.statements.map((s) => [
    s.kind,
    s.name,
    String(s.version),
    s.issued_at,
    s.expires_at,
    String(s.days_left),
    s.level,
  ]);
  const statementHeader = ["kind", "name", "version", "issued", "expires", "days", "state"];
  for (const line of renderTable(statementHeader, statementRows)) ctx.out(`  ${line}`);
  if (status.revoked.length > 0) {
    ctx.out("");
    ctx.out(`Revoked agents (no valid key): ${status.revoked.join(", ")}`);
  }
  const warnings = [...status.keys.filter((k) => k.state !== "retired"), ...status.statements]
    .map(warning)
    .filter((w): w is string => w !== undefined);
  if (warnings.length > 0) ctx.out("");
  for (const w of warnings) ctx.out(w);
  if (pending !== undefined) {
    ctx.out("");
    for (const line of pendingLines(pending)) ctx.out(line);
  }
  if (check) {
    ctx.out("");
    ctx.out(
      failed
        ? `Check failed: ${expiring.length} key(s) or statement(s) expire within ${days} days:`
        : `Check passed: nothing expires within ${days} days`,
    );
    for (const row of expiring) ctx.out(`  ${label(row)} (${expiry(row)})`);
  }
  return failed ? EXIT.failure : EXIT.ok;
}

/** `saoe keys status`. */
export const keysStatusCommand: Command = {
  path: PATH,
  summary: "every key and signed statement with its expiry; --check for cron/CI",
  usage: "[--check [--within DAYS]] [--pending FILE]",
  description: [
    "Lists every key (the dispatcher keys of the root in force, each agent's keys and the",
    "supervisor's, current and retired) with role, fingerprint (the key id: hex SHA-256 of the",
    "public key), valid-from/until and days to expiry, and every signed statement with an",
    "expiry (trust root, key directory, capability sets, template manifests, tool manifest)",
    "with the command that renews it. Warns 7 days and 1 day before an expiry.",
    "",
    "--check exits 1 when any current key or statement expires within DAYS days (default 7),",
    'for cron or CI. --pending FILE also shows a pending trust root (from "saoe keys rotate',
    'dispatcher --pending FILE"): which keys signed, which are missing, whether both thresholds',
    "are met.",
    "",
    "Exit codes: 0 fine, 1 check failed or the trust state does not verify, 2 usage.",
  ].join("\n"),
  options: {
    check: { type: "boolean", help: "exit 1 if anything expires within --within days" },
    within: { type: "string", value: "DAYS", help: "the --check window in days (default 7)" },
    pending: { type: "string", value: "FILE", help: "show the signatures of a pending root" },
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
