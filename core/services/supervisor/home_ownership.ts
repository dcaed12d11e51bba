/**
 * Who owns what in a home whose supervisor runs as root (docs/design.md section
 * 12), applied before the agents start. With a uid per agent the kernel's own
 * checks hold even if Deno's were gone:
 *
 * | path                              | owner:group            | mode |
 * | --------------------------------- | ---------------------- | ---- |
 * | home, `agents/`                   | root:root              | 0711 (enter, never list) |
 * | `vault/`, `trust/` (every file)   | root:root              | 0755 / 0644 (nobody else may write) |
 * | `agents/<a>/`, its `inbox/`       | a:a                    | 0711 (senders reach their folder) |
 * | `agents/<a>/{store,quarantine,dead,retry}/` and all in them | a:a | 0700 / 0600 |
 * | `agents/<a>/inbox/<s>/`           | s:a                    | 2770 (s creates, a consumes; files inherit group a) |
 * | `uploads/`, `media/`, `output/`   | its one writer:its group | 2750 (2770 with several writers) |
 * | `audit/`                          | root:audit group       | 2750, files 0640 |
 *
 * `keys/` and `config.json` stay root's, 0700 and 0600. Without root nothing
 * changes: every agent shares the supervisor's uid and the home stays 0700.
 *
 * The folders agents can write are walked only before any agent runs (right
 * after the start-up sweep moved links aside): `chown` follows a symlink, so
 * walking one while its agent runs would let it redirect a root `chown`. A
 * reload re-owns only `vault/`, `trust/` and `audit/`, which no agent writes.
 *
 * @module
 */
import { join } from "node:path";
import type { Capset } from "../../domain/capset/types.ts";
import {
  agentDir,
  type HomeLayout,
  inboxDir,
  inboxFromDir,
  SHARED_FS_ROOTS,
} from "../../domain/home/layout.ts";
import type { SandboxIds } from "./agent_identity.ts";

async function walk(
  path: string,
  visit: (path: string, info: Deno.FileInfo) => Promise<void>,
  skip: (path: string) => boolean = () => false,
): Promise<void> {
  const info = await Deno.lstat(path).catch(() => undefined);
  if (info === undefined || skip(path)) return;
  await visit(path, info);
  if (!info.isDirectory) return;
  for await (const entry of Deno.readDir(path)) await walk(join(path, entry.name), visit, skip);
}

async function own(path: string, uid: number, gid: number, mode: number): Promise<void> {
  // never follow a link: the sweep moves links aside, and chown must not reach through one
  const info = await Deno.lstat(path);
  if (info.isSymlink) return;
  await Deno.chown(path, uid, gid);
  await Deno.chmod(path, mode);
}

async function ownTree(
  root: string,
  uid: number,
  gid: number,
  modes: { dir: number; file: number },
  skip?: (path: string) => boolean,
): Promise<void> {
  await walk(root, async (path, info) => {
    if (info.isSymlink) return;
    await own(path, uid, gid, info.isDirectory ? modes.dir : modes.file);
  }, skip);
}

/**
 * Applies the ownership table above for the agents of `capsets`; a no-op when
 * `ids` is undefined (the supervisor is not root).
 *
 * @example
 * ```ts ignore
 * await applyHomeOwnership(home, capsets, config.sandbox_ids);
 * ```
 */
export async function applyHomeOwnership(
  home: HomeLayout,
  capsets: readonly Capset[],
  ids: SandboxIds | undefined,
  options: { agentFolders: boolean } = { agentFolders: true },
): Promise<void> {
  if (ids === undefined) return;
  await own(home.root, 0, 0, 0o711);
  await own(home.agents, 0, 0, 0o711);
  // no agent can write these: safe to walk while agents run (a ceremony rewrote them)
  for (const folder of [home.vault, home.trust]) {
    await ownTree(folder, 0, 0, { dir: 0o755, file: 0o644 });
  }
  await ownTree(home.audit, 0, ids.shared.audit, { dir: 0o2750, file: 0o640 });
  if (!options.agentFolders) return;
  for (const capset of capsets) {
    const me = ids.agents[capset.agent]!;
    const inbox = inboxDir(home, capset.agent);
    const mine = agentDir(home, capset.agent);
    await ownTree(mine, me.uid, me.gid, { dir: 0o700, file: 0o600 }, (p) => p === inbox);
    await own(mine, me.uid, me.gid, 0o711);
    await own(inbox, me.uid, me.gid, 0o711);
    for (const r of capset.receives) {
      const sender = ids.agents[r.from];
      if (sender === undefined) continue;
      await ownTree(inboxFromDir(home, capset.agent, r.from), sender.uid, me.gid, {
        dir: 0o2770,
        file: 0o640,
      });
    }
    // its own folder of each receiver's inbox, even when that receiver does not run here
    for (const s of capset.sends) {
      const receiver = ids.agents[s.to];
      const uid = receiver?.uid ?? 0;
      const gid = receiver?.gid ?? 0;
      if (!capsets.some((c) => c.agent === s.to)) {
        await own(agentDir(home, s.to), uid, gid, 0o711);
        await own(inboxDir(home, s.to), uid, gid, 0o711);
      }
      await ownTree(inboxFromDir(home, s.to, capset.agent), me.uid, gid, {
        dir: 0o2770,
        file: 0o640,
      });
    }
  }
  for (const root of SHARED_FS_ROOTS) {
    if (root === "audit") continue;
    const writers = capsets.filter((c) => c.fs.write.includes(root));
    const owner = writers.length === 1 ? ids.agents[writers[0]!.agent]!.uid : 0;
    const several = writers.length > 1;
    await ownTree(home[root], owner, ids.shared[root], {
      dir: several ? 0o2770 : 0o2750,
      file: several ? 0o660 : 0o640,
    });
  }
}
