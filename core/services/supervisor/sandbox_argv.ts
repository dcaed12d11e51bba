/**
 * The command line that puts one agent's Deno process inside its operating-
 * system sandbox (docs/design.md section 12), rendered from the sandbox the
 * capset function derived (`SandboxSpec`) and the machine facts
 * (`SandboxHost`):
 *
 *     prlimit --data=… --nofile=… [--nproc=…] --fsize=… --core=0 --
 *       [setpriv --reuid=U --regid=G --groups=… --]
 *       bwrap --unshare-all [--share-net] --die-with-parent --new-session
 *             --cap-drop ALL  <system, /proc, /dev, private /tmp>  <binds>
 *             --chdir REPO --setenv DENO_DIR /tmp/deno --  deno run …
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

/** Where the agent's private Deno cache lives (on its private `/tmp`). */
export const SANDBOX_DENO_DIR = "/tmp/deno";
/** Size of the agent's private `/tmp` (a tmpfs, charged to memory). */
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
    "/tmp",
  );
  for (const bind of spec.binds) {
    argv.push(bind.mode === "rw" ? "--bind" : "--ro-bind", bind.path, bind.path);
  }
  argv.push("--chdir", options.cwd, "--setenv", "DENO_DIR", SANDBOX_DENO_DIR, "--");
  argv.push(...options.inner);
  return argv;
}
