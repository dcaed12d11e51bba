/**
 * `deno task fuzz [--seed N] [--iterations N] [--minutes M]`: the engine of the
 * default fuzz test (`tests/fuzz/`), run for longer. It makes a temporary home
 * with `initHome`, then runs the fuzz loop in a child process that may read but
 * not write anything except `tests/fuzz/corpus/` (the envelope validator refuses
 * a vault its process may write). Prints a progress line every few thousand
 * inputs and saves every failing input as `tests/fuzz/corpus/<kind>-<sha256
 * prefix>.bin` with a `.json` note (seed, iteration, mutation, error). Exits 1
 * when anything was found, 2 on a usage error.
 *
 * Without `--seed` a random seed is chosen and printed; without `--iterations`
 * or `--minutes` it runs 20 000 inputs. With `--minutes` alone it runs until the
 * time is up.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initHome } from "../core/services/ceremony/init_home.ts";
import { homeLayout } from "../core/domain/home/layout.ts";
import { FakeClock } from "../core/devtools/testing/fake_clock.ts";
import { formatFinding, runFuzz, type RunStats } from "../core/devtools/fuzz/engine.ts";
import { saveFinding } from "../core/devtools/fuzz/corpus.ts";
import { allTargets } from "../core/devtools/fuzz/setup.ts";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const SOURCES = join(REPO, "vault");
const CORPUS = join(REPO, "tests/fuzz/corpus");
const USAGE = "usage: deno task fuzz [--seed N] [--iterations N] [--minutes M]";

/** Parsed command line. */
interface FuzzArgs {
  seed: number;
  iterations: number;
  minutes?: number;
  /** Internal: run the loop against this existing home (the child process). */
  childHome?: string;
  clockMs?: number;
}

function usage(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  Deno.exit(2);
}

function parseArgs(args: readonly string[]): FuzzArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!;
    if (!["--seed", "--iterations", "--minutes", "--child-home", "--clock-ms"].includes(name)) {
      usage(`unknown argument ${name}`);
    }
    const value = args[++i];
    if (value === undefined) usage(`${name} needs a value`);
    values.set(name, value);
  }
  const integer = (name: string, max: number): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n > max) {
      usage(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const minutes = values.has("--minutes") ? Number(values.get("--minutes")) : undefined;
  if (minutes !== undefined && !(minutes > 0 && minutes <= 24 * 60)) {
    usage("--minutes must be a number of minutes above 0 and at most 1440");
  }
  const iterations = integer("--iterations", Number.MAX_SAFE_INTEGER);
  const parsed: FuzzArgs = {
    seed: integer("--seed", 0xffff_ffff) ?? crypto.getRandomValues(new Uint32Array(1))[0]!,
    iterations: iterations ?? (minutes === undefined ? 20_000 : Number.MAX_SAFE_INTEGER),
  };
  if (minutes !== undefined) parsed.minutes = minutes;
  const childHome = values.get("--child-home");
  if (childHome !== undefined) parsed.childHome = childHome;
  const clockMs = integer("--clock-ms", Number.MAX_SAFE_INTEGER);
  if (clockMs !== undefined) parsed.clockMs = clockMs;
  return parsed;
}

function progress(stats: RunStats, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  const top = Object.entries(stats.codes).sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([code, n]) => `${code} ${n}`).join(", ");
  return `fuzz: ${stats.iterations} inputs in ${seconds.toFixed(0)} s (${
    Math.round(stats.iterations / Math.max(seconds, 0.001))
  }/s), ${stats.accepted} accepted, ${stats.findings.length} findings; refusals: ${top}`;
}

/** The child: read-only but for the corpus; runs the loop. */
async function child(args: FuzzArgs & { childHome: string; clockMs: number }): Promise<number> {
  const clock = new FakeClock(args.clockMs);
  const targets = await allTargets({ home: homeLayout(args.childHome), sources: SOURCES, clock });
  const startedAt = performance.now();
  console.log(
    `fuzz: seed ${args.seed}, ${
      args.minutes === undefined ? `${args.iterations} inputs` : `up to ${args.minutes} min`
    }, ${targets.length} targets: ${targets.map((t) => t.target.kind).join(", ")}`,
  );
  const stats = await runFuzz({
    targets,
    seed: args.seed,
    iterations: args.iterations,
    ...(args.minutes === undefined ? {} : { deadline: startedAt + args.minutes * 60_000 }),
    progressEvery: 5000,
    onProgress: (s) => console.log(progress(s, startedAt)),
    onFinding: async (finding) => {
      const path = await saveFinding(CORPUS, finding);
      console.log(`FINDING ${formatFinding(finding)}\n  saved to ${path}`);
    },
  });
  console.log(progress(stats, startedAt));
  console.log(`fuzz: refusals by reason code: ${JSON.stringify(stats.codes)}`);
  if (stats.findings.length > 0) {
    console.log(`fuzz: ${stats.findings.length} finding(s) with seed ${args.seed}`);
    return 1;
  }
  console.log(`fuzz: no findings with seed ${args.seed}`);
  return 0;
}

/** The parent: makes the home, runs the child with narrow permissions, cleans up. */
async function parent(args: FuzzArgs): Promise<number> {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-fuzz-" }));
  try {
    const clockMs = Date.now();
    const { home } = await initHome({
      home: join(tmp, "home"),
      sources: SOURCES,
      repo: REPO,
      clock: new FakeClock(clockMs),
    });
    await Deno.mkdir(CORPUS, { recursive: true });
    const forward = [
      "--seed",
      String(args.seed),
      "--iterations",
      String(args.iterations),
      ...(args.minutes === undefined ? [] : ["--minutes", String(args.minutes)]),
      "--child-home",
      home.root,
      "--clock-ms",
      String(clockMs),
    ];
    const status = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--cached-only",
        "--frozen",
        "--allow-read",
        `--allow-write=${CORPUS}`,
        fileURLToPath(import.meta.url),
        ...forward,
      ],
      cwd: REPO,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    return status.code;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const code = args.childHome !== undefined && args.clockMs !== undefined
    ? await child({ ...args, childHome: args.childHome, clockMs: args.clockMs })
    : await parent(args);
  Deno.exit(code);
}
