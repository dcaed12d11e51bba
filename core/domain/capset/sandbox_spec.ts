/**
 * The second rendering of the capset → permissions function (docs/design.md
 * section 12): from the same checked grants that become Deno's flags, the mount
 * namespace an agent's bubblewrap sandbox holds, whether it keeps the host
 * network, and the kernel resource limits from its capset `limits`.
 *
 * A path granted for writing is bound read-write; a path granted only for
 * reading is bound read-only; nothing else of the home exists inside. The
 * code (the Deno executable, the agent's modules, the npm files) is bound
 * read-only and must lie outside the home. Binds are ordered parents first, so
 * a read-only grant nested in a writable one stays read-only.
 *
 * @module
 */
import { posix } from "node:path";
import type { Capset } from "./types.ts";
import type { Grant } from "./permissions.ts";

/** One bind mount of the sandbox, at the same path inside as outside. */
export interface SandboxBind {
  /** `ro` for `--ro-bind`, `rw` for `--bind`. */
  mode: "ro" | "rw";
  /** Absolute path (a file or a folder). */
  path: string;
  /** What grants it: the capset fields of its Deno grants, or `code`. */
  source: string;
}

/** Kernel resource limits of one agent, from its capset `limits`. */
export interface SandboxLimits {
  /** Writable private memory (RLIMIT_DATA), MiB. */
  memory_mib: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  open_files: number;
  /** Processes and threads of the agent's uid (RLIMIT_NPROC). */
  processes: number;
  /** Largest file written (RLIMIT_FSIZE), MiB. */
  file_size_mib: number;
}

/** The sandbox one agent runs in. */
export interface SandboxSpec {
  /** Bind mounts, parents first. */
  binds: SandboxBind[];
  /** `host` keeps the host network (an agent that listens on loopback), `none` unshares it. */
  network: "host" | "none";
  limits: SandboxLimits;
}

/** Limits of an agent whose capset names none. */
export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  memory_mib: 1024,
  open_files: 1024,
  processes: 256,
  file_size_mib: 64,
});

/**
 * The kernel limits of an agent: its capset's `limits` fields, defaults for absent ones.
 *
 * @example
 * ```ts
 * import { sandboxLimits } from "./sandbox_spec.ts";
 * const limits = sandboxLimits({ limits: { max_envelope_bytes: 256, quota_per_minute: 1,
 *   max_inbox_depth: 1, max_quarantine: 1, memory_mib: 512 } });
 * if (limits.memory_mib !== 512 || limits.open_files !== 1024) throw new Error();
 * ```
 */
export function sandboxLimits(capset: Pick<Capset, "limits">): SandboxLimits {
  const l = capset.limits;
  return {
    memory_mib: l.memory_mib ?? DEFAULT_SANDBOX_LIMITS.memory_mib,
    open_files: l.open_files ?? DEFAULT_SANDBOX_LIMITS.open_files,
    processes: l.processes ?? DEFAULT_SANDBOX_LIMITS.processes,
    file_size_mib: l.file_size_mib ?? DEFAULT_SANDBOX_LIMITS.file_size_mib,
  };
}

function inside(path: string, root: string): boolean {
  const rel = posix.relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !posix.isAbsolute(rel));
}

/**
 * Renders checked grants and code paths as the agent's sandbox; throws what
 * `refuse` makes for a code path that is not absolute or overlaps the home
 * (either way round, the sandbox would expose the home).
 */
export function renderSandbox(
  grants: readonly Grant[],
  capset: Pick<Capset, "limits" | "net">,
  codePaths: readonly string[],
  homeRoot: string,
  refuse: (message: string) => Error,
): SandboxSpec {
  const byPath = new Map<string, { write: boolean; sources: Set<string> }>();
  for (const grant of grants) {
    if (grant.flag !== "allow-read" && grant.flag !== "allow-write") continue;
    const entry = byPath.get(grant.value) ?? { write: false, sources: new Set<string>() };
    if (grant.flag === "allow-write") entry.write = true;
    entry.sources.add(grant.source);
    byPath.set(grant.value, entry);
  }
  const binds: SandboxBind[] = [];
  for (const [path, entry] of byPath) {
    binds.push({
      mode: entry.write ? "rw" : "ro",
      path,
      source: [...entry.sources].sort().join(" "),
    });
  }
  for (const path of new Set(codePaths)) {
    if (!posix.isAbsolute(path) || posix.normalize(path) !== path) {
      throw refuse(`code path ${JSON.stringify(path)} is not an absolute normalised path`);
    }
    if (inside(path, homeRoot) || inside(homeRoot, path)) {
      throw refuse(
        `code path ${
          JSON.stringify(path)
        } overlaps the home ${homeRoot}: the sandbox would expose it`,
      );
    }
    if (byPath.has(path)) continue;
    binds.push({ mode: "ro", path, source: "code" });
  }
  // parents first: a nested bind must come after the one that contains it
  binds.sort((a, b) => {
    const da = a.path.split("/").length;
    const db = b.path.split("/").length;
    return da - db || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  });
  // a bind inside one of the same mode adds nothing but a mount boundary, across
  // which a rename fails (EXDEV); one of the other mode inside stays (it is the point)
  const kept: SandboxBind[] = [];
  for (const bind of binds) {
    const parent = kept.findLast((k) => k.path !== bind.path && inside(bind.path, k.path));
    if (parent !== undefined && parent.mode === bind.mode) continue;
    kept.push(bind);
  }
  return {
    binds: kept,
    network: capset.net.length > 0 ? "host" : "none",
    limits: sandboxLimits(capset),
  };
}
