/**
 * Fixtures of the ceremony tests: a real home made by `initHome` (optionally with
 * the dispatcher keys exported offline), the CLI run exactly as the `saoe` task
 * runs it (with a piped stdin, or inside a real pseudo-terminal through
 * util-linux `script`), edited copies of the repository's sources, and a digest
 * of every byte under a folder to prove a refusal changed nothing.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toHex } from "../../core/primitives/crypto/bytes.ts";
import { initHome, type OfflineDispatcherOptions } from "../../core/services/ceremony/init_home.ts";
import { type HomeConfig, readHomeConfig } from "../../core/domain/home/config.ts";
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import { type KeyStore, openKeyStore } from "../../core/domain/keys/keystore.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";

/** The repository root (symlink-free). */
export const REPO: string = await Deno.realPath(fileURLToPath(new URL("../../", import.meta.url)));

/** The passphrase the offline tests use. */
export const PASSPHRASE = "correct horse battery staple";

/** A fresh home in a temp folder; disposing removes the folder. */
export interface TestHome extends AsyncDisposable {
  /** The temp folder (holds `home/` and `src/`). */
  dir: string;
  /** The home's root. */
  root: string;
  home: HomeLayout;
  config: HomeConfig;
  keys: KeyStore;
  /** A folder for edited sources and key files, outside the home. */
  src: string;
}

/** Options for {@linkcode makeHome}. */
export interface MakeHomeOptions {
  /** Export the dispatcher keys to `<dir>/src/dispatcher.age` instead of the key store. */
  offline?: boolean;
  threshold?: number;
  keys?: number;
  /** The sources folder; default the repository's `vault/`. */
  sources?: string;
}

/** Creates a home with `initHome` (the real ceremony) in a fresh temp folder. */
export async function makeHome(options: MakeHomeOptions = {}): Promise<TestHome> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-ceremony-" }));
  // agents with their own uids (a supervisor running as root) must be able to enter it
  await Deno.chmod(dir, 0o711);
  const root = join(dir, "home");
  const src = join(dir, "src");
  await Deno.mkdir(src);
  const offline: OfflineDispatcherOptions | undefined = options.offline === true
    ? { exportPath: join(src, "dispatcher.age"), passphrase: PASSPHRASE, workFactor: 10 }
    : undefined;
  try {
    const { home } = await initHome({
      home: root,
      sources: options.sources ?? join(REPO, "vault"),
      repo: REPO,
      clock: systemClock,
      ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
      ...(options.keys !== undefined ? { keys: options.keys } : {}),
      ...(offline !== undefined ? { offlineDispatcher: offline } : {}),
    });
    return {
      dir,
      root,
      home,
      config: await readHomeConfig(home.config),
      keys: await openKeyStore(home.keys),
      src,
      async [Symbol.asyncDispose]() {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (err: unknown) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/** The text of a repository source, `vault/<kind>/<name>.json`. */
export function repoSource(kind: "templates" | "capsets", name: string): Promise<string> {
  return Deno.readTextFile(join(REPO, "vault", kind, `${name}.json`));
}

/** Writes `text` to `<t.src>/<name>` and returns the path. */
export async function writeSource(t: TestHome, name: string, text: string): Promise<string> {
  const path = join(t.src, name);
  await Deno.writeTextFile(path, text);
  return path;
}

/** `blog_article_intent` with `version` and a title limit of `maxLength` (a one-line change). */
export async function editedTemplate(version: number, maxLength = 321): Promise<string> {
  const text = await repoSource("templates", "blog_article_intent");
  const edited = text
    .replace(/"version": 1,/, `"version": ${version},`)
    .replace(/"maxLength": 200\n/, `"maxLength": ${maxLength}\n`);
  if (edited === text || !edited.includes(`"maxLength": ${maxLength}`)) {
    throw new Error("the repository template changed shape: update editedTemplate()");
  }
  return edited;
}

/**
 * SHA-256 over every entry under `dir` (relative path, kind, and each file's
 * bytes), in sorted order: equal digests mean byte-for-byte equal trees.
 */
export async function treeDigest(dir: string): Promise<string> {
  const parts: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await Array.fromAsync(Deno.readDir(join(dir, rel)));
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        parts.push(`d ${path}`);
        await walk(path);
      } else {
        const bytes = await Deno.readFile(join(dir, path));
        const digest = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
        parts.push(`${entry.isSymlink ? "l" : "f"} ${path} ${digest}`);
      }
    }
  }
  await walk("");
  const all = new TextEncoder().encode(parts.join("\n"));
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", all)));
}

/** Every file under `dir` whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const want = new TextEncoder().encode(needle);
  async function walk(path: string): Promise<void> {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) await walk(child);
      else if (indexOf(await Deno.readFile(child), want) >= 0) found.push(child);
    }
  }
  await walk(dir);
  return found;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The `deno run …` arguments of the `saoe` task in deno.json (what users run). */
export async function saoeTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const words = String(config.tasks.saoe).split(/\s+/);
  if (words[0] !== "deno") throw new Error(`Unexpected saoe task: ${config.tasks.saoe}`);
  return words.slice(1);
}

/** What one CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `saoe <args>` with `stdin` piped in (or `null` stdin when undefined). */
export async function runSaoe(args: string[], stdin?: string): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...await saoeTaskArgs(), ...args],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One exchange with a program in a terminal: wait for `after` on screen, then type `send`. */
export interface TerminalStep {
  after: string;
  send: string;
}

/**
 * Runs `saoe <args>` inside a pseudo-terminal (`script -qec`), so its stdin is a
 * real terminal: each step waits for its text on screen and types its bytes
 * (`\x03` is Ctrl-C, `\x04` Ctrl-D). Returns the exit code and everything the
 * terminal showed (stdout and stderr together, with the typed echo).
 */
export async function runInTerminal(
  args: string[],
  steps: readonly TerminalStep[],
  timeoutMs = 20_000,
): Promise<{ code: number; screen: string }> {
  // exec: no shell stays between script and saoe to receive the terminal's SIGINT itself
  const command = `exec ${
    [Deno.execPath(), ...await saoeTaskArgs(), ...args].map(shellWord).join(" ")
  }`;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      cwd: REPO,
      env: { NO_COLOR: "1", SHELL: "/bin/sh" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err: unknown) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error(
      "The terminal tests need script(1) from Debian's bsdutils: run scripts/setup test",
    );
  }
  let screen = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) screen += decoder.decode(chunk, { stream: true });
  })();
  const stderr = new Response(child.stderr).text();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  try {
    for (const step of steps) {
      while (!screen.includes(step.after)) {
        if (exited) {
          throw new Error(`exited before showing ${JSON.stringify(step.after)}:\n${screen}`);
        }
        // paces the screen checks; the loop ends on the text, the exit or the kill timer
        await new Promise((r) => setTimeout(r, 25));
      }
      await writer.write(new TextEncoder().encode(step.send));
    }
    const { code } = await status;
    await reading;
    screen += await stderr;
    return { code, screen };
  } finally {
    clearTimeout(timer);
    await writer.close().catch(() => {});
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await status;
    }
  }
}
