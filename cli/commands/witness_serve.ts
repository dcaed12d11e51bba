/**
 * `saoe witness serve`: runs the witness (c2sp.org/tlog-witness) in the
 * foreground on loopback, or on the address `--listen` names explicitly; one
 * line (a JSON object with `--json`) on stdout once it listens, one line per
 * decision on stderr, and a clean stop on SIGINT or SIGTERM.
 *
 * @module
 */
import {
  DEFAULT_WITNESS_HOST,
  DEFAULT_WITNESS_PORT,
  startWitness,
} from "../../core/services/witness/server.ts";
import { type Command, EXIT } from "../_support/command.ts";
import { inert, jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";
import { STATE_OPTION, stateDirOption } from "../_support/witness_state_option.ts";

const PATH = ["witness", "serve"];
const LISTEN_RE = /^(?:((?:[0-9]{1,3}\.){3}[0-9]{1,3})|\[([0-9A-Fa-f:.]+)\]):([0-9]{1,5})$/;

/**
 * Parses `HOST:PORT` (an IPv4 address or a bracketed IPv6 address; port 0 lets
 * the system choose).
 *
 * @example
 * ```ts
 * import { parseListen } from "./witness_serve.ts";
 * const at = parseListen("127.0.0.1:0");
 * if (at.hostname !== "127.0.0.1" || at.port !== 0) throw new Error();
 * if (parseListen("[::1]:8075").hostname !== "::1") throw new Error();
 * ```
 */
export function parseListen(value: string): { hostname: string; port: number } {
  const m = LISTEN_RE.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  const hostname = m?.[1] ?? m?.[2] ?? "";
  const octetsOk = m?.[1] === undefined || m[1].split(".").every((o) => Number(o) <= 255);
  if (m === null || !octetsOk || !(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `Invalid --listen ${
        JSON.stringify(value.slice(0, 80))
      }: expected HOST:PORT with an IP address, e.g. 127.0.0.1:${DEFAULT_WITNESS_PORT}, 127.0.0.1:0 or [::1]:${DEFAULT_WITNESS_PORT}`,
    );
  }
  return { hostname, port };
}

/** Resolves once standard input ends (or cannot be read). */
async function stdinClosed(): Promise<void> {
  try {
    for await (const _ of Deno.stdin.readable) {
      // what a parent writes is not read as anything
    }
  } catch {
    // a broken pipe ends it too
  }
}

/** `saoe witness serve`. */
export const witnessServeCommand: Command = {
  path: PATH,
  summary: "run the witness's HTTP service in the foreground",
  usage: `--state DIR [--listen HOST:PORT] [--until-stdin-closes]`,
  description: [
    "Serves POST /add-checkpoint (c2sp.org/tlog-witness): verifies the log's signature on each",
    "checkpoint and its consistency with the last one cosigned, stores the new state (fsynced),",
    "and only then answers the cosignature. Also GET /checkpoint?origin=ORIGIN, an extension",
    "that returns the latest cosigned checkpoint as a signed note (docs/witness.md).",
    "",
    `Listens on ${DEFAULT_WITNESS_HOST}:${DEFAULT_WITNESS_PORT} unless --listen names another address`,
    "(port 0 lets the system choose). Prints one line with its URL once it listens (a JSON",
    "object with --json), logs every decision on stderr, and stops cleanly on Ctrl-C or SIGTERM.",
    "Refuses a state directory that is missing, not initialised (a lost state is never",
    "recreated), or that other users can write, and a key file others can read.",
    "With --until-stdin-closes it also stops when its standard input ends: a parent process that",
    "starts it (saoe pipeline for a local witness) keeps the pipe open, so the witness never",
    "outlives it, however it exits.",
    "",
    "Examples:",
    "  saoe witness serve --state /var/lib/saoe-witness",
    "  saoe witness serve --state ./w --listen 127.0.0.1:0 --json",
    "",
    "Exit codes: 0 stopped by a signal, 1 refused to start, 2 usage.",
  ].join("\n"),
  options: {
    state: STATE_OPTION,
    listen: {
      type: "string",
      value: "HOST:PORT",
      help:
        `the address to bind (default ${DEFAULT_WITNESS_HOST}:${DEFAULT_WITNESS_PORT}; port 0: any)`,
    },
    "until-stdin-closes": {
      type: "boolean",
      help: "also stop when standard input ends (for a parent that starts the witness)",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, async () => {
      const dir = stateDirOption(ctx);
      const listen = typeof ctx.values.listen === "string"
        ? parseListen(ctx.values.listen)
        : { hostname: DEFAULT_WITNESS_HOST, port: DEFAULT_WITNESS_PORT };
      const stop = Promise.withResolvers<string>();
      if (ctx.values["until-stdin-closes"] === true) {
        void stdinClosed().then(() => stop.resolve("standard input closed"));
      }
      const onSigint = () => stop.resolve("SIGINT");
      const onSigterm = () => stop.resolve("SIGTERM");
      Deno.addSignalListener("SIGINT", onSigint);
      Deno.addSignalListener("SIGTERM", onSigterm);
      try {
        const server = await startWitness({
          dir,
          hostname: listen.hostname,
          port: listen.port,
          log: (line) => ctx.err(inert(line)),
        });
        if (ctx.global.json) {
          ctx.out(jsonText({
            kind: "listening",
            url: server.url,
            name: server.name,
            vkey: server.vkey,
            pid: Deno.pid,
          }));
        } else {
          ctx.out(`Witness ${inert(server.name)} listening on ${server.url}`);
        }
        const signal = await stop.promise;
        ctx.err(`witness: ${signal}: stopping after in-flight requests`);
        await server.shutdown();
        ctx.err("witness: stopped");
        return EXIT.ok;
      } finally {
        Deno.removeSignalListener("SIGINT", onSigint);
        Deno.removeSignalListener("SIGTERM", onSigterm);
      }
    });
  },
};
