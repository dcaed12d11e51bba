/**
 * The command line that puts one agent's Deno process inside its operating-
 * system sandbox (docs/design.md section 12), rendered from the sandbox the
 * capset function derived (`SandboxSpec`) and the machine facts
 * (`SandboxHost`):
 *
 *     prlimit --data=… --nofile=… [--nproc=…] --fsize=… --core=0 --
 *       [setpriv --reuid=U --regid=G --groups=… --]
 *       bwrap --unshare-all [--share-net] --die-with-parent --new-session
 *             --cap-drop ALL  <system, /proc, /dev, private /.saoe-private>
 *             <binds>  --remount-ro /
 *             --chdir REPO --setenv TMPDIR … --setenv DENO_DIR … --  deno run …
 *
 * `prlimit` and `setpriv` set their limits and identity, then exec the next
 * program, so bwrap is the supervisor's direct child. The memory limit is
 * RLIMIT_DATA, not RLIMIT_AS: V8 reserves about 18 GiB of address space it never
 * commits (its Oilpan cage and guard regions), so an address-space limit kills
 * Deno at start (measured: "Oilpan: CagedHeap reservation") or bounds nothing
 * real. RLIMIT_DATA counts writable private mappings: the memory an ArrayBuffer
 * or a heap uses, plus V8's writable code range of about 512 MiB per isolate
 * (measured: 553 MiB at start, +530 MiB per Worker), which is why a ToolGate
 * host's capset gives it more.
 *
 * @module
 */
import type { SandboxSpec } from "../../domain/capset/sandbox_spec.ts";
import type { SandboxHost } from "./sandbox_host.ts";

/** The uid, gid and groups one agent runs as (only when the supervisor is root). */
export interface AgentIdentity {
  uid: number;
  gid: number;
  /** Supplementary groups: those of the shared folders its capset names. */
  groups: number[];
}

/**
 * The agent's private writable scratch space (a tmpfs of its own). Not `/tmp`:
 * a home or checkout under `/tmp` would put the folders bubblewrap makes to hold
 * the binds inside that writable tmpfs; here they stay on the read-only root.
 */
export const SANDBOX_PRIVATE_DIR = "/.saoe-private";
/** The agent's temporary files (`TMPDIR`), in its private space. */
export const SANDBOX_TMP_DIR = `${SANDBOX_PRIVATE_DIR}/tmp`;
/** The agent's own Deno cache (`DENO_DIR`: localStorage, caches), in its private space. */
export const SANDBOX_DENO_DIR = `${SANDBOX_PRIVATE_DIR}/deno`;
/** Size of the private space (a tmpfs, charged to memory). */
export const SANDBOX_TMP_BYTES = 64 * 1024 * 1024;

const MIB = 1024 * 1024;

/** Options for {@linkcode sandboxArgv}. */
export interface SandboxArgvOptions {
  spec: SandboxSpec;
  host: SandboxHost;
  /** The agent's own uid and gid; absent when the supervisor is not root. */
  identity?: AgentIdentity;
  /** Working folder inside the sandbox (the repository root). */
  cwd: string;
  /** The Deno command: executable first. */
  inner: readonly string[];
}

/**
 * The full argument vector (program first) of a sandboxed agent.
 *
 * @example
 * ```ts
 * import { sandboxArgv } from "./sandbox_argv.ts";
 * import { DOC_SANDBOX_HOST } from "./sandbox_host.ts";
 * const argv = sandboxArgv({
 *   spec: { binds: [{ mode: "ro", path: "/opt/saoe/core", source: "code" }], network: "none",
 *     limits: { memory_mib: 512, open_files: 256, processes: 128, file_size_mib: 16 } },
 *   host: DOC_SANDBOX_HOST, cwd: "/opt/saoe", inner: ["/opt/deno", "run", "x.ts"],
 * });
 * if (argv[0] !== "/usr/bin/prlimit" || !argv.includes("--unshare-all")) throw new Error();
 * ```
 */
export function sandboxArgv(options: SandboxArgvOptions): string[] {
  const { spec, host, identity } = options;
  for (const bind of spec.binds) {
    if (bind.path === SANDBOX_PRIVATE_DIR || bind.path.startsWith(`${SANDBOX_PRIVATE_DIR}/`)) {
      throw new RangeError(`A sandbox bind may not lie in ${SANDBOX_PRIVATE_DIR}: ${bind.path}`);
    }
  }
  const l = spec.limits;
  const argv: string[] = [
    host.tools.prlimit,
    `--data=${l.memory_mib * MIB}`,
    `--nofile=${l.open_files}`,
  ];
  // RLIMIT_NPROC counts every process of the uid: meaningful only for an agent's own uid
  if (identity !== undefined) argv.push(`--nproc=${l.processes}`);
  argv.push(`--fsize=${l.file_size_mib * MIB}`, "--core=0", "--");
  if (identity !== undefined) {
    argv.push(
      host.tools.setpriv,
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      identity.groups.length > 0 ? `--groups=${identity.groups.join(",")}` : "--clear-groups",
      "--",
    );
  }
  argv.push(host.tools.bwrap, "--unshare-all");
  if (spec.network === "host") argv.push("--share-net");
  argv.push("--die-with-parent", "--new-session", "--cap-drop", "ALL");
  for (const mount of host.system) {
    if (mount.kind === "symlink") argv.push("--symlink", mount.target, mount.path);
    else argv.push("--ro-bind", mount.path, mount.path);
  }
  argv.push(
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(SANDBOX_TMP_BYTES),
    "--tmpfs",
    SANDBOX_PRIVATE_DIR,
    "--dir",
    SANDBOX_TMP_DIR,
    "--dir",
    SANDBOX_DENO_DIR,
  );
  for (const bind of spec.binds) {
    argv.push(bind.mode === "rw" ? "--bind" : "--ro-bind", bind.path, bind.path);
  }
  // the skeleton bubblewrap made for the binds (e.g. an empty vault/ holding one
  // capset file) is read-only too: nothing can be created beside a bind
  argv.push("--remount-ro", "/");
  argv.push(
    "--chdir",
    options.cwd,
    "--setenv",
    "TMPDIR",
    SANDBOX_TMP_DIR,
    "--setenv",
    "DENO_DIR",
    SANDBOX_DENO_DIR,
    "--",
  );
  argv.push(...options.inner);
  return argv;
}
