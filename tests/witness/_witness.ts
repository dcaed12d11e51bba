/**
 * The witness as a user runs it, for tests: state directories made by
 * `saoe witness init`, and `saoe witness serve` spawned as a real subprocess
 * (exactly the `deno task saoe` flags) on port 0, its URL read from its one
 * JSON stdout line, its stderr kept, stopped by SIGTERM or killed by SIGKILL.
 *
 * @module
 */
import { join } from "node:path";

/** The repository root. */
export const REPO: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The runtime flags of `deno task saoe`, read from deno.json (the tests run what users run). */
export async function cliArgs(): Promise<string[]> {
  const deno = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const task = String(deno.tasks.saoe).split(/\s+/);
  if (task[0] !== "deno") throw new Error(`unexpected saoe task ${deno.tasks.saoe}`);
  return task.slice(1);
}

/** What one CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `saoe <args>` in a subprocess from the repository root; killed after `timeoutMs`. */
export async function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await cliArgs(), ...args],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A temp folder holding a state directory `state/`. */
export interface TestState {
  tmp: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** A fresh temp folder (nothing initialised yet); `dir` does not exist. */
export async function tempState(): Promise<TestState> {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-witness-" }));
  return {
    tmp,
    dir: join(tmp, "state"),
    cleanup: () => Deno.remove(tmp, { recursive: true }),
  };
}

/** `saoe witness init` in a fresh temp folder, and `add-log` of each `[origin, vkey]`. */
export async function initState(
  logs: readonly (readonly [string, string])[] = [],
  name = "witness.local/test",
): Promise<TestState & { vkey: string }> {
  const state = await tempState();
  const init = await runCli(["witness", "init", "--state", state.dir, "--name", name, "--json"]);
  if (init.code !== 0) throw new Error(`witness init failed: ${init.stdout}${init.stderr}`);
  for (const [origin, vkey] of logs) {
    const added = await runCli([
      "witness",
      "add-log",
      "--state",
      state.dir,
      "--origin",
      origin,
      "--vkey",
      vkey,
    ]);
    if (added.code !== 0) throw new Error(`witness add-log failed: ${added.stderr}`);
  }
  return { ...state, vkey: JSON.parse(init.stdout).vkey };
}

/** A running `saoe witness serve`. */
export interface WitnessProcess {
  url: string;
  name: string;
  vkey: string;
  pid: number;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM; resolves with its exit status once its output is read. */
  stop(): Promise<Deno.CommandStatus>;
  /** SIGKILL; resolves with its exit status. */
  kill(): Promise<Deno.CommandStatus>;
}

/** Spawns `saoe witness serve --state DIR --listen 127.0.0.1:0 --json` and waits for its URL. */
export async function spawnWitness(dir: string): Promise<WitnessProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...await cliArgs(),
      "witness",
      "serve",
      "--state",
      dir,
      "--listen",
      "127.0.0.1:0",
      "--json",
    ],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errText = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) errText += decoder.decode(chunk, { stream: true });
  })();
  const first = Promise.withResolvers<string>();
  const stdoutDone = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of child.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      const at = buffer.indexOf("\n");
      if (at >= 0) first.resolve(buffer.slice(0, at));
    }
    first.reject(new Error(`saoe witness serve exited before it listened:\n${errText}`));
  })();
  const status = child.status;
  const timer = setTimeout(() => first.reject(new Error("no listening line within 20 s")), 20_000);
  let line: string;
  try {
    line = await first.promise;
  } catch (err: unknown) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await status;
    await Promise.allSettled([stdoutDone, stderrDone]);
    throw new Error(`${String(err)}\n${errText}`);
  } finally {
    clearTimeout(timer);
  }
  const ready = JSON.parse(line) as { kind: string; url: string; name: string; vkey: string };
  if (ready.kind !== "listening") throw new Error(`unexpected first line ${line}`);
  const end = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    const s = await status;
    await Promise.allSettled([stdoutDone, stderrDone]);
    return s;
  };
  return {
    url: ready.url,
    name: ready.name,
    vkey: ready.vkey,
    pid: child.pid,
    stderr: () => errText,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** A raw POST to `/add-checkpoint`: status, content type and body text. */
export async function postRaw(
  url: string,
  body: BodyInit,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; text: string; headers: Headers }> {
  const response = await fetch(`${url}/add-checkpoint`, { method: "POST", body, ...init });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    text: await response.text(),
    headers: response.headers,
  };
}
