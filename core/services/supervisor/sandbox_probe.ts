/**
 * The supervisor's start-up check that the operating-system sandbox works here
 * (docs/design.md section 12): it runs one empty sandbox the way every agent's
 * is built (same tools, same namespaces, the first agent's uid), and, with a
 * uid per agent, checks that those uids can reach the home and the code. A
 * failure is `sandbox_unavailable` with the exact command that fixes it; the
 * pipeline never falls back to one layer.
 *
 * @module
 */
import { dirname } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { inert } from "../../primitives/text/inert_text.ts";
import { type AgentIdentity, SANDBOX_PRIVATE_DIR } from "./sandbox_argv.ts";
import { SANDBOX_INSTALL, type SandboxHost } from "./sandbox_host.ts";

/** The sysctl lines that let unprivileged processes create user namespaces. */
export const USERNS_FIX =
  "sysctl -w kernel.unprivileged_userns_clone=1 user.max_user_namespaces=15000" +
  " (on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0)";

/**
 * Refuses when a folder on the way to `path` cannot be entered by other users
 * (agents with their own uids would not reach it).
 */
export async function assertReachable(path: string, what: string): Promise<void> {
  for (let dir = dirname(path);; dir = dirname(dir)) {
    const info = await Deno.stat(dir);
    if (info.mode !== null && (info.mode & 0o001) === 0) {
      throw new SaoeError(
        "sandbox_unavailable",
        `Refusing to start: ${dir} (on the way to ${what} ${path}) cannot be entered by other ` +
          `users, and each agent runs as its own uid. Fix: chmod o+x ${dir}, or move ${what} ` +
          `to a folder others may enter`,
        { file: dir },
      );
    }
    if (dir === "/") return;
  }
}

/**
 * Runs `/usr/bin/true` in a sandbox built like an agent's; refuses with the
 * reason bubblewrap gave and the fix.
 *
 * @example
 * ```ts ignore
 * await probeSandbox(await detectSandboxHost(), { uid: 61001, gid: 61001, groups: [] });
 * ```
 */
export async function probeSandbox(host: SandboxHost, identity?: AgentIdentity): Promise<void> {
  const args: string[] = [];
  if (identity !== undefined) {
    args.push(
      host.tools.setpriv,
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      "--clear-groups",
      "--",
    );
  }
  args.push(host.tools.bwrap, "--unshare-all", "--die-with-parent", "--new-session");
  args.push("--cap-drop", "ALL");
  for (const mount of host.system) {
    if (mount.kind === "symlink") args.push("--symlink", mount.target, mount.path);
    else args.push("--ro-bind", mount.path, mount.path);
  }
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", SANDBOX_PRIVATE_DIR);
  args.push("--remount-ro", "/", "--", "/usr/bin/true");
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(host.tools.prlimit, {
      args: ["--core=0", "--", ...args],
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  } catch (err: unknown) {
    throw new SaoeError(
      "sandbox_unavailable",
      `Refusing to start: cannot run ${host.tools.prlimit}: ${
        err instanceof Error ? err.message : String(err)
      }. Fix: ${SANDBOX_INSTALL}`,
    );
  }
  if (out.success) return;
  const why = inert(new TextDecoder().decode(out.stderr).trim().slice(0, 500));
  const fix = /namespace|Operation not permitted|No permissions|setting up uid map/i.test(why)
    ? USERNS_FIX
    : SANDBOX_INSTALL;
  throw new SaoeError(
    "sandbox_unavailable",
    `Refusing to start: an agent sandbox cannot be created here (bubblewrap: ${
      why || `exit ${out.code}`
    }). Fix: ${fix}`,
  );
}
