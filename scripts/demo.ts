/**
 * `deno task demo`: the pipeline demo in one command. It creates a fresh home in
 * `.saoe-demo/`, starts `saoe pipeline` on it, submits a sample article with a
 * photo through the authenticated intake API (`saoe submit --wait`), prints the
 * published article and the session's audit trail, verifies the ledger, and keeps
 * the pipeline running until Ctrl-C. Every step runs the real `saoe` command with
 * the permissions of the `saoe` task, as an operator would.
 *
 * @module
 */
import { join } from "node:path";
import { SAMPLE_PHOTO } from "./demo/sample_image.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const HOME = join(REPO, ".saoe-demo");

/** The `saoe` task's exact command line from deno.json (after `deno`). */
async function saoeArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const task: string = config.tasks.saoe;
  return task.split(/\s+/).slice(1);
}

async function saoe(args: string[], options: { capture?: boolean } = {}): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await saoeArgs(), ...args, "--home", HOME],
    cwd: REPO,
    stdout: options.capture ? "piped" : "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`saoe ${args[0]} failed with exit code ${out.code}`);
  return options.capture ? new TextDecoder().decode(out.stdout) : "";
}

function banner(text: string): void {
  console.log(`\n\x1b[1m== ${text}\x1b[0m`);
}

async function waitForIntake(pipeline: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  pipeline.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error("the pipeline exited before it was ready");
    try {
      const res = await fetch("http://127.0.0.1:8090/api/submit", { method: "GET" });
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error("intake did not come up on 127.0.0.1:8090 within 60 s");
}

async function main(): Promise<number> {
  banner(`Creating a fresh home in ${HOME}`);
  await saoe(["init", "--force"]);

  console.log(
    `The ledger's checkpoints are cosigned by a local witness, a separate process whose state lives outside the home, in ${HOME}.witness (run it as another user or on another host in production: docs/witness.md).`,
  );

  banner("Starting the pipeline (supervisor, its witness, six sandboxed agents and the viewer)");
  const pipeline = new Deno.Command(Deno.execPath(), {
    args: [...await saoeArgs(), "pipeline", "--home", HOME],
    cwd: REPO,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    try {
      pipeline.kill("SIGINT");
    } catch {
      // already gone
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await waitForIntake(pipeline);

    banner("Submitting a sample article with a 1600×1200 photo");
    const submitted = JSON.parse(
      await saoe([
        "submit",
        "--title",
        "Hello from SAOE",
        "--markdown-file",
        join(REPO, "scripts/demo/sample_article.md"),
        "--image",
        join(REPO, SAMPLE_PHOTO),
        "--wait",
        "--json",
      ], { capture: true }),
    );
    if (submitted.outcome !== "published") {
      console.error(`The article was not published: ${submitted.reason ?? "unknown reason"}`);
      stop();
      await pipeline.status;
      return 1;
    }

    banner(`Published: ${submitted.article}`);
    console.log(`In a browser: http://127.0.0.1:8080/output/${submitted.session_id}/`);
    console.log(await Deno.readTextFile(submitted.article));

    banner(`Audit trail of session ${submitted.session_id}`);
    await saoe(["audit", "events", "--session", submitted.session_id]);

    banner("Ledger verification, against what the witness cosigned");
    await saoe(["audit", "verify"]);

    banner("The pipeline keeps running. Try:");
    console.log(
      [
        "  http://127.0.0.1:8080/          the live audit trail (viewer)",
        "  http://127.0.0.1:8090/login     the intake form (credential in .saoe-demo/keys/operator-operator.token)",
        `  deno task saoe submit --home ${HOME} --title "My post" --markdown "Hello *world*" --wait`,
        `  deno task saoe status --home ${HOME}`,
        `  deno task saoe capset explain planner --home ${HOME}`,
        "Press Ctrl-C to stop.",
      ].join("\n"),
    );
  } catch (err: unknown) {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
    stop();
    await pipeline.status;
    return 1;
  }
  const status = await pipeline.status;
  return status.success ? 0 : status.code;
}

if (import.meta.main) Deno.exit(await main());
