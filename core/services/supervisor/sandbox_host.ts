/**
 * What the operating-system sandbox needs from this machine (docs/design.md
 * section 12): bubblewrap, util-linux's `prlimit` and `setpriv`, how the
 * system folders are laid out (merged `/usr` or not), and whether the
 * supervisor runs as root (then each agent gets its own uid). Missing tools
 * and namespaces that do not work are refusals that name the fix; nothing
 * falls back to running an agent with one layer.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";

/** Where the sandbox tools are (Debian paths; nothing is looked up on `PATH`). */
export const SANDBOX_TOOLS = Object.freeze({
  bwrap: "/usr/bin/bwrap",
  prlimit: "/usr/bin/prlimit",
  setpriv: "/usr/bin/setpriv",
});

/** How one top-level system folder is mounted inside the sandbox. */
export type SystemMount =
  | { kind: "symlink"; path: string; target: string }
  | { kind: "ro"; path: string };

/** The machine facts the sandbox command is rendered from. */
export interface SandboxHost {
  tools: { bwrap: string; prlimit: string; setpriv: string };
  /** `/usr` and the top-level folders that hold libraries and the loader. */
  system: SystemMount[];
  /** The supervisor's uid (0: agents get their own uids). */
  uid: number;
}

/** The install line printed when a sandbox tool is missing. */
export const SANDBOX_INSTALL = "apt-get install -y bubblewrap util-linux";

const SYSTEM_DIRS = ["/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"] as const;

async function lstat(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Finds the sandbox tools and the system layout, or refuses with
 * `sandbox_unavailable` and the install command.
 *
 * @example
 * ```ts ignore
 * const host = await detectSandboxHost();
 * console.log(host.tools.bwrap, host.uid === 0 ? "a uid per agent" : "shared uid");
 * ```
 */
export async function detectSandboxHost(
  tools: SandboxHost["tools"] = SANDBOX_TOOLS,
): Promise<SandboxHost> {
  for (const [name, path] of Object.entries(tools)) {
    const info = await lstat(path);
    if (info === undefined || (!info.isFile && !info.isSymlink)) {
      throw new SaoeError(
        "sandbox_unavailable",
        `Refusing to start: ${path} (${name}) is missing, and every agent runs inside a ` +
          `bubblewrap sandbox with kernel limits. Fix: ${SANDBOX_INSTALL} (as root), ` +
          `or run ./scripts/setup demo`,
        { file: path },
      );
    }
  }
  const system: SystemMount[] = [{ kind: "ro", path: "/usr" }];
  for (const path of SYSTEM_DIRS) {
    const info = await lstat(path);
    if (info === undefined) continue;
    if (info.isSymlink) system.push({ kind: "symlink", path, target: await Deno.readLink(path) });
    else if (info.isDirectory) system.push({ kind: "ro", path });
  }
  return { tools: { ...tools }, system, uid: Deno.uid() ?? -1 };
}

/**
 * A fixed host for documentation (a Debian machine with merged `/usr`, the
 * supervisor not root): what `saoe capset explain` shows for another layout.
 */
export const DOC_SANDBOX_HOST: Readonly<SandboxHost> = Object.freeze<SandboxHost>({
  tools: { ...SANDBOX_TOOLS },
  system: [
    { kind: "ro", path: "/usr" },
    { kind: "symlink", path: "/lib", target: "usr/lib" },
    { kind: "symlink", path: "/lib64", target: "usr/lib64" },
    { kind: "symlink", path: "/bin", target: "usr/bin" },
  ],
  uid: 1000,
});
