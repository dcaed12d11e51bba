/**
 * A witness on this machine that `saoe pipeline` (and `saoe audit verify`, when
 * no pipeline runs) starts for a home whose config names its state directory:
 * `saoe witness serve` as its own process, with only its state directory
 * readable and writable and one loopback port the system assigns, which it
 * reports. It stops when its parent does: it serves until its stdin closes,
 * which happens when the parent exits, however it exits.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";

/** A started local witness. */
export interface LocalWitness {
  url: string;
  name: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startLocalWitness}. */
export interface StartLocalWitnessOptions {
  /** The witness's state directory. */
  state: string;
  /** The repository (the CLI entry). */
  repo: string;
  /** Where its stderr lines go. */
  log(line: string): void;
  /** Default 15 s. */
  readyTimeoutMs?: number;
}

/**
 * Spawns `saoe witness serve --state DIR --listen 127.0.0.1:0 --json` and waits
 * for its listening line.
 *
 * @example
 * ```ts ignore
 * const w = await startLocalWitness({ state, repo, log: console.error });
 * console.log(w.url);
 * await w.stop();
 * ```
 */
export async function startLocalWitness(
  options: StartLocalWitnessOptions,
): Promise<LocalWitness> {
  const state = await Deno.realPath(options.state).catch(() => {
    throw new SaoeError(
      "bad_config",
      `Cannot start the local witness: its state directory ${options.state} does not exist (config.json witnesses[].state); create it with "saoe witness init" or "saoe witness attach"`,
    );
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--cached-only",
      "--frozen",
      `--allow-read=${state}`,
      `--allow-write=${state}`,
      "--allow-net=127.0.0.1:0",
      join(options.repo, "cli", "main.ts"),
      "witness",
      "serve",
      "--state",
      state,
      "--listen",
      "127.0.0.1:0",
      "--until-stdin-closes",
      "--json",
    ],
    cwd: options.repo,
    clearEnv: true,
    env: {},
    // its own process group: a Ctrl-C in the operator's terminal signals the supervisor and
    // its agents, never the witness, which must still cosign the final checkpoint at shutdown
    // (it stops when its stdin closes, and when the supervisor stops it)
    detached: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrLines: string[] = [];
  void (async () => {
    const decoder = new TextDecoderStream();
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(decoder)) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        stderrLines.push(line);
        if (stderrLines.length > 20) stderrLines.shift();
        options.log(`[witness] ${line}`);
      }
    }
  })().catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`it did not report listening within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  let listening: { url: string; name: string };
  try {
    let text = "";
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error("it exited before it listened");
      text += value;
      const newline = text.indexOf("\n");
      if (newline < 0) continue;
      const line = JSON.parse(text.slice(0, newline)) as {
        kind?: unknown;
        url?: unknown;
        name?: unknown;
      };
      if (
        line.kind !== "listening" || typeof line.url !== "string" || typeof line.name !== "string"
      ) {
        throw new Error(`unexpected first line ${text.slice(0, newline).slice(0, 200)}`);
      }
      listening = { url: line.url, name: line.name };
      break;
    }
  } catch (err: unknown) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    throw new SaoeError(
      "witness_unavailable",
      `Cannot start the local witness on ${state}: ${
        err instanceof Error ? err.message : String(err)
      }${stderrLines.length > 0 ? ` (${stderrLines.slice(-3).join(" | ")})` : ""}`,
    );
  } finally {
    clearTimeout(timer);
  }
  // drain the rest of stdout; the witness writes nothing more there
  void (async () => {
    while (!(await reader.read()).done) { /* nothing */ }
  })().catch(() => {});
  const writer = child.stdin.getWriter();
  let stopping: Promise<void> | undefined;
  return {
    url: listening.url,
    name: listening.name,
    pid: child.pid,
    stop() {
      stopping ??= (async () => {
        await writer.close().catch(() => {});
        const killTimer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }, 5_000);
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
        clearTimeout(killTimer);
      })();
      return stopping;
    },
  };
}
