/**
 * Checks that a witness state directory is private to the user who runs the
 * witness: the directory, the key file and the database are real files (no
 * symlink, one link), owned by this process's user, and writable by nobody
 * else (the key file readable by nobody else either). Anyone who can write the
 * state can roll it back, and a rolled-back witness cosigns a fork; anyone who
 * can read the key can cosign anything.
 *
 * The process's user is learnt without `--allow-sys`: the owner of a file the
 * process has just created in the state directory is its effective user.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { lstatOrNull } from "../../primitives/fs/lstat_or_null.ts";

/** The effective user id of this process, from a probe file created (and removed) in `dir`. */
export async function processOwner(dir: string): Promise<number | null> {
  const probe = join(dir, `.probe-${crypto.randomUUID()}`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(probe, { write: true, createNew: true, mode: 0o600 });
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SaoeError(
      "io_error",
      `Cannot use the witness state directory ${dir}: this process cannot create a file in it (${why}); run the witness as the user who owns it`,
      { file: dir },
    );
  }
  try {
    return (await file.stat()).uid;
  } finally {
    file.close();
    await Deno.remove(probe).catch(() => {});
  }
}

/** What {@linkcode checkPrivate} checks. */
export interface PrivateSpec {
  /** What the path is, for messages: `state directory`, `key file`. */
  what: string;
  /** A directory (else a regular file with one link). */
  directory: boolean;
  /** Mode bits nobody but the owner may have: 0o022 (write) or 0o077 (any). */
  forbidden: number;
  /** The mode `chmod` should set, for the message (0o700, 0o600). */
  fixMode: number;
}

/**
 * Refuses (`unsafe_path`) a path that is missing, a symlink, not the expected
 * kind, owned by another user than `owner` or with a `forbidden` mode bit; the
 * message names the path and the fix.
 *
 * @example
 * ```ts
 * import { checkPrivate, processOwner } from "./state_checks.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.chmod(dir, 0o700);
 * const owner = await processOwner(dir);
 * const spec = { what: "state directory", directory: true, forbidden: 0o022, fixMode: 0o700 };
 * await checkPrivate(dir, owner, spec);
 * await Deno.chmod(dir, 0o770);
 * let refused = false;
 * try { await checkPrivate(dir, owner, spec); } catch { refused = true; }
 * if (!refused) throw new Error("a group-writable state directory was accepted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkPrivate(
  path: string,
  owner: number | null,
  spec: PrivateSpec,
): Promise<void> {
  const info = await lstatOrNull(path);
  const refuse = (problem: string) =>
    new SaoeError("unsafe_path", `Refusing the witness ${spec.what} ${path}: ${problem}`, {
      file: path,
    });
  if (info === null) throw refuse("it does not exist");
  if (info.isSymlink) throw refuse("it is a symlink; use the real path");
  if (spec.directory ? !info.isDirectory : !info.isFile || (info.nlink ?? 1) !== 1) {
    throw refuse(spec.directory ? "it is not a directory" : "it is not a regular single-link file");
  }
  if (owner !== null && info.uid !== null && info.uid !== owner) {
    throw refuse(
      `it is owned by uid ${info.uid}, not by uid ${owner} that runs the witness; run the witness as its owner`,
    );
  }
  const mode = info.mode ?? 0;
  if ((mode & spec.forbidden) !== 0) {
    const who = (mode & spec.forbidden & 0o022) !== 0
      ? "other users can write it"
      : "other users can read it";
    throw refuse(
      `${who} (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); run chmod ${
        spec.fixMode.toString(8)
      } ${path}`,
    );
  }
}
