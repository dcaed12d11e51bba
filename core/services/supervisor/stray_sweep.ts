/**
 * The sweep the supervisor runs before it starts the pipeline and before every
 * agent (re)start (docs/design.md sections 10 and 12): a symbolic link, a file
 * with a second hard link, a FIFO, a socket or a device inside a folder an
 * agent can reach is moved aside into `agents/supervisor/strays/` (a folder no
 * agent can see), and each move is reported so it lands in the ledger as
 * `stray_moved`. Nothing is followed or opened, and one planted entry never
 * stops the pipeline: the rest starts.
 *
 * A folder the home itself is made of (`vault/`, `agents/`, `uploads/`…) that
 * is a link is not a stray: the home is broken, and the start is refused.
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { agentDir, type HomeLayout, SUPERVISOR_ID } from "../../domain/home/layout.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { AGENT_VISIBLE_FOLDERS, findUnsafeEntries, type UnsafeKind } from "./tree_check.ts";

/** One entry moved aside. */
export interface StrayMove {
  /** Where it was (absolute). */
  from: string;
  /** Where it is now, under `agents/supervisor/strays/` (absolute). */
  to: string;
  kind: UnsafeKind;
}

/** `agents/supervisor/strays/`: where swept entries are kept for the operator. */
export function straysDir(home: HomeLayout): string {
  return join(agentDir(home, SUPERVISOR_ID), "strays");
}

/** The agent-visible top folders of the home (the default roots of a sweep). */
export function visibleRoots(home: HomeLayout): string[] {
  return AGENT_VISIBLE_FOLDERS.map((f) => home[f]);
}

/**
 * Moves every unsafe entry under `roots` (absolute folders inside the home)
 * into the strays folder; returns the moves. Refuses (`unsafe_path`) a root
 * that is itself a link.
 *
 * @example
 * ```ts
 * import { sweepStrays } from "./stray_sweep.ts";
 * import { homeLayout } from "../../domain/home/layout.ts";
 * const root = await Deno.makeTempDir();
 * const home = homeLayout(root);
 * await Deno.mkdir(`${root}/agents/planner/inbox`, { recursive: true });
 * await Deno.symlink("/etc/passwd", `${root}/agents/planner/inbox/x`);
 * const moves = await sweepStrays(home, [home.agents], { now: () => 0 });
 * if (moves.length !== 1 || moves[0]!.kind !== "symlink") throw new Error();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function sweepStrays(
  home: HomeLayout,
  roots: readonly string[],
  clock: Clock,
): Promise<StrayMove[]> {
  const found = await findUnsafeEntries(home, { roots, limit: 10_000 });
  if (found.length === 0) return [];
  const structural = new Set<string>([...visibleRoots(home), ...roots]);
  const broken = found.find((f) => structural.has(f.path));
  if (broken !== undefined) {
    throw new SaoeError(
      "unsafe_path",
      `Refusing to start: ${broken.path}, a folder of the home agents can reach, is a ${
        broken.kind === "symlink" ? "symbolic link" : "special file"
      }; the home is broken. Fix: replace it with a real folder (rm ${
        JSON.stringify(broken.path)
      }; the supervisor re-creates it)`,
      { file: broken.path },
    );
  }
  const dir = straysDir(home);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, "-");
  const moves: StrayMove[] = [];
  for (const [i, entry] of found.entries()) {
    const name = `${stamp}-${i}-${relative(home.root, entry.path).replaceAll("/", "_")}`;
    const to = join(dir, name.length > 200 ? `${stamp}-${i}-${basename(entry.path)}` : name);
    try {
      await Deno.rename(entry.path, to);
    } catch (err: unknown) {
      if (err instanceof Deno.errors.NotFound) continue; // gone meanwhile
      // another file system: the entry cannot be kept, only removed (never followed)
      await Deno.remove(entry.path);
      moves.push({ from: entry.path, to: "(removed)", kind: entry.kind });
      continue;
    }
    moves.push({ from: entry.path, to, kind: entry.kind });
  }
  return moves;
}
