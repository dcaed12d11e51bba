/**
 * The check behind `saoe audit verify --outputs`: every session folder under
 * `output/` against the `published` event of its session in the ledger
 * (`detail.files`, `published_files.ts`). It lists every file whose bytes do not
 * hash to the digest its event names (`mismatch`), every file the event names
 * that is missing (`missing`), every file the event does not name (`unlisted`),
 * every link or special file (`unsafe`) and every session folder no
 * `published` event vouches for (`unpublished`); anything else directly under
 * `output/` is `unlisted` too. Temp names (a leading dot) are skipped, as every
 * reader skips them.
 *
 * It reads the ledger after it lists `output/`, so a session published while it
 * runs is not taken for a planted one; a session still being written (its
 * images are copied before the page, the page before `published`) shows as
 * `unpublished` until it is published.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { isHiddenName } from "../../primitives/fs/atomic_write.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";
import { UUID_RE } from "../../primitives/ids/patterns.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { decodeEvent } from "../../domain/ledger/events.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import {
  OUTPUT_PROBLEMS,
  type OutputFinding,
  PAGE_NAME,
  publishedFilesOf,
} from "./published_files.ts";
import { readRegularFileInfo } from "./safe_file.ts";

/** Largest output file hashed, in bytes (the viewer's image limit). */
export const MAX_OUTPUT_FILE_BYTES = 32 * 1024 * 1024;

/** What {@linkcode auditOutputs} found. */
export interface OutputAudit {
  ok: boolean;
  /** Sessions with a `published` event that names files. */
  published: number;
  /** Files checked against their event (matching or not). */
  checked: number;
  /** Every refused file or folder, in path order. */
  findings: OutputFinding[];
}

/** Records read per chunk by {@linkcode readPublished}. */
const READ_CHUNK = 5_000;

/** The ledger as {@linkcode readPublished} reads it (a read-only `Ledger`). */
export interface LedgerReader {
  read(options: { afterSeq: number; limit: number }): { seq: number; bytes: Uint8Array }[];
}

/**
 * What every session's first `published` event by deployment vouches for, read
 * from the whole ledger (undecodable records are skipped: `saoe audit verify`
 * names them).
 */
export function readPublished(
  ledger: LedgerReader,
): Map<string, ReadonlyMap<string, string>> {
  const published = new Map<string, ReadonlyMap<string, string>>();
  let after = 0;
  for (;;) {
    const records = ledger.read({ afterSeq: after, limit: READ_CHUNK });
    if (records.length === 0) return published;
    for (const record of records) {
      after = record.seq;
      let files: ReadonlyMap<string, string> | undefined;
      let session: string | undefined;
      try {
        const event = decodeEvent(record.bytes);
        files = publishedFilesOf(event);
        session = event.session_id;
      } catch {
        continue;
      }
      if (files !== undefined && session !== undefined && !published.has(session)) {
        published.set(session, files);
      }
    }
  }
}

/** Options for {@linkcode auditOutputs}. */
export interface AuditOutputsOptions {
  home: HomeLayout;
  /** Called after `output/` is listed: what the ledger's `published` events vouch for. */
  published(): Promise<ReadonlyMap<string, ReadonlyMap<string, string>>>;
}

async function names(folder: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    if (!isHiddenName(entry.name)) out.push(entry.name);
  }
  return out.sort();
}

function isRealFolder(info: Deno.FileInfo | null): boolean {
  return info !== null && info.isDirectory && !info.isSymlink;
}

/**
 * Checks every file under `output/` against the ledger.
 *
 * @example
 * ```ts
 * import { auditOutputs } from "./output_audit.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const home = homeLayout(await Deno.makeTempDir());
 * await Deno.mkdir(`${home.output}/0f8fad5b-d9cb-469f-a165-70867728950e`, { recursive: true });
 * const audit = await auditOutputs({ home, published: () => Promise.resolve(new Map()) });
 * if (audit.ok || audit.findings[0]?.problem !== "unpublished") throw new Error();
 * await Deno.remove(home.root, { recursive: true });
 * ```
 */
export async function auditOutputs(options: AuditOutputsOptions): Promise<OutputAudit> {
  const { home } = options;
  const top = await lstatOrNull(home.output);
  if (top !== null && !isRealFolder(top)) {
    throw new SaoeError("unsafe_path", `Cannot check ${home.output}: it is not a real folder`, {
      file: home.output,
    });
  }
  const entries = top === null ? [] : await names(home.output);
  const published = await options.published();
  const findings: OutputFinding[] = [];
  let checked = 0;

  const checkFile = async (session: string, name: string, expected: string) => {
    const file = `output/${session}/${name}`;
    checked++;
    try {
      const read = await readRegularFileInfo(
        join(home.output, session, name),
        MAX_OUTPUT_FILE_BYTES,
      );
      const sha256 = await sha256Hex(read.bytes);
      if (sha256 !== expected) {
        findings.push({ session, file, problem: "mismatch", sha256, expected });
      }
    } catch (err: unknown) {
      if (!(err instanceof SaoeError)) throw err;
      const info = await lstatOrNull(join(home.output, session, name));
      findings.push({ session, file, problem: info === null ? "missing" : "unsafe", expected });
    }
  };

  for (const name of entries) {
    const path = join(home.output, name);
    const info = await lstatOrNull(path);
    const isSession = UUID_RE.test(name) && isRealFolder(info);
    if (!isSession) {
      findings.push({
        ...(UUID_RE.test(name) ? { session: name } : {}),
        file: `output/${name}`,
        problem: UUID_RE.test(name) && info?.isDirectory !== true ? "unsafe" : "unlisted",
      });
      continue;
    }
    const files = published.get(name);
    if (files === undefined) {
      findings.push({ session: name, file: `output/${name}/`, problem: "unpublished" });
      continue;
    }
    for (const child of await names(path)) {
      if (child === "img") {
        const img = join(path, "img");
        if (!isRealFolder(await lstatOrNull(img))) {
          findings.push({ session: name, file: `output/${name}/img`, problem: "unsafe" });
          continue;
        }
        for (const file of await names(img)) {
          if (!files.has(`img/${file}`)) {
            findings.push({
              session: name,
              file: `output/${name}/img/${file}`,
              problem: "unlisted",
            });
          }
        }
      } else if (child !== PAGE_NAME) {
        findings.push({ session: name, file: `output/${name}/${child}`, problem: "unlisted" });
      }
    }
    for (const [file, expected] of files) await checkFile(name, file, expected);
  }
  // a published session whose folder is gone: every file it names is missing
  const listed = new Set(entries);
  for (const [session, files] of [...published].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    if (listed.has(session)) continue;
    for (const [name, expected] of files) {
      checked++;
      findings.push({ session, file: `output/${session}/${name}`, problem: "missing", expected });
    }
  }
  findings.sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return { ok: findings.length === 0, published: published.size, checked, findings };
}

/** One line of text for a finding: the file, why, and the reason code. */
export function findingText(finding: OutputFinding): string {
  return `${finding.file}: ${OUTPUT_PROBLEMS[finding.problem]} (output_mismatch)`;
}

/** The `--json` form of an audit: every finding with its reason code and message. */
export function outputAuditJson(audit: OutputAudit): JsonObject {
  return {
    ok: audit.ok,
    published: audit.published,
    checked: audit.checked,
    findings: audit.findings.map((f) => ({
      reason: "output_mismatch",
      problem: f.problem,
      file: f.file,
      ...(f.session !== undefined ? { session_id: f.session } : {}),
      ...(f.sha256 !== undefined ? { sha256: f.sha256 } : {}),
      ...(f.expected !== undefined ? { expected: f.expected } : {}),
      message: OUTPUT_PROBLEMS[f.problem],
    })),
  };
}
