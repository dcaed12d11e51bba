/**
 * The witness server behind `saoe witness serve`: opens the state directory
 * (refusing one that is missing, uninitialised or writable by other users, see
 * `state.ts`), binds the address it is given (loopback unless the operator
 * names another one), serves `handler.ts`, and on shutdown lets in-flight
 * requests finish before it closes the database. Port 0 lets the system choose
 * a port; the server reports the one it bound.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { createWitnessHandler } from "./handler.ts";
import { openWitnessState } from "./state.ts";

/** The port `saoe witness serve` listens on unless told otherwise. */
export const DEFAULT_WITNESS_PORT = 8075;
/** The address `saoe witness serve` binds unless told otherwise. */
export const DEFAULT_WITNESS_HOST = "127.0.0.1";

/** Options for {@linkcode startWitness}. */
export interface StartWitnessOptions {
  /** The state directory. */
  dir: string;
  /** The address to bind; {@linkcode DEFAULT_WITNESS_HOST} by default. */
  hostname?: string;
  /** The port; 0 lets the system choose. */
  port: number;
  /** Receives one line per decision and per problem. */
  log?: (line: string) => void;
  clock?: Clock;
}

/** A running witness. */
export interface WitnessServer {
  /** Its key name. */
  name: string;
  /** Its cosignature verifier key (type 0x04). */
  vkey: string;
  /** `http://HOST:PORT` (the bound port, never 0). */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, closes the state. */
  shutdown(): Promise<void>;
}

/** `http://host:port`, bracketing an IPv6 address. */
export function witnessUrl(hostname: string, port: number): string {
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * Opens the state in `options.dir` and serves it.
 *
 * @example
 * ```ts ignore
 * const server = await startWitness({ dir: "/srv/witness", port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export async function startWitness(options: StartWitnessOptions): Promise<WitnessServer> {
  const hostname = options.hostname ?? DEFAULT_WITNESS_HOST;
  const log = options.log ?? ((line: string) => console.error(line));
  const state = await openWitnessState(options.dir);
  const handler = createWitnessHandler({
    state,
    log,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  const listening = Promise.withResolvers<number>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port: options.port,
      // the default prints "Listening on …" to stdout, where the CLI prints its one line
      onListen: (addr) => listening.resolve(addr.port),
      onError: (err: unknown) => {
        log(
          `witness: 500 error ${(err instanceof Error ? err.message : String(err)).slice(0, 300)}`,
        );
        return new Response("Internal witness error\n", {
          status: 500,
          headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
        });
      },
    }, handler);
  } catch (err: unknown) {
    state.close();
    const why = err instanceof Error ? err.message : String(err);
    const address = `${hostname}:${options.port}`;
    if (err instanceof Deno.errors.NotCapable) {
      throw new SaoeError(
        "bad_config",
        `Cannot start the witness on ${address}: this process may not listen there (${why}); \`deno task saoe\` allows 127.0.0.1 only, so to serve another address run cli/main.ts with --allow-net=${hostname} (docs/witness.md)`,
        {},
        { cause: err },
      );
    }
    throw new SaoeError(
      err instanceof Deno.errors.AddrInUse ? "bad_config" : "io_error",
      `Cannot start the witness: cannot listen on ${address}: ${why}; stop what holds the port or choose another with --listen (port 0 lets the system choose)`,
      {},
      { cause: err },
    );
  }
  const port = await listening.promise;
  let stopping: Promise<void> | undefined;
  return {
    name: state.name,
    vkey: state.vkey,
    url: witnessUrl(hostname, port),
    port,
    shutdown: () => {
      stopping ??= server.shutdown().finally(() => state.close());
      return stopping;
    },
  };
}
