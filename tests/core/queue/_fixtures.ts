/**
 * Fixtures for the queue tests: a temporary home with one receiver's queue
 * folders, entry writers, and a deadline-bounded wait.
 *
 * @module
 */
import { join } from "node:path";
import { type HomeLayout, homeLayout } from "../../../core/domain/home/layout.ts";
import { type QueuePaths, queuePaths } from "../../../core/domain/queue/paths.ts";
import { writeFileAtomic } from "../../../core/primitives/fs/atomic_write.ts";
import { waitFor as waitUntil } from "../../_support/wait.ts";

/** A temporary home with the receiver `planner` and senders `intake`, `sanitization`. */
export interface QueueHome {
  root: string;
  home: HomeLayout;
  paths: QueuePaths;
  receiver: string;
  senders: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** Creates a temporary home with the receiver's inbox, sender folders and agent folders. */
export async function makeQueueHome(): Promise<QueueHome> {
  const root = await Deno.makeTempDir({ prefix: "saoe-queue-" });
  const home = homeLayout(root);
  const receiver = "planner";
  const senders = ["intake", "sanitization"];
  const paths = queuePaths(home, receiver);
  for (const sender of senders) await Deno.mkdir(join(paths.inbox, sender), { recursive: true });
  for (const dir of [paths.quarantine, paths.dead, paths.retry]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  return {
    root,
    home,
    paths,
    receiver,
    senders,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** A fresh entry name, `<uuid>.satl`. */
export function entryName(): string {
  return `${crypto.randomUUID()}.satl`;
}

/** Writes `text` atomically as a new entry from `sender`; returns its name. */
export async function putEntry(q: QueueHome, sender: string, text = "payload"): Promise<string> {
  const name = entryName();
  await writeFileAtomic(join(q.paths.inbox, sender, name), new TextEncoder().encode(text));
  return name;
}

/** Waits until `check()` is true, failing after `ms` milliseconds (`../../_support/wait.ts`). */
export async function waitFor(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  await waitUntil(check, ms, what, { intervalMs: 5 });
}

/** Names (not hidden) in a folder, sorted. */
export async function listNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of Deno.readDir(dir)) if (!item.name.startsWith(".")) names.push(item.name);
  return names.sort();
}

/** Reads and parses a dead-letter sidecar. */
export async function readSidecar(deadDir: string, key: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(join(deadDir, `${key}.reason.json`)));
}
