/**
 * Serves HTTP on one loopback port for intake and the viewer. The port comes
 * from the agent's capability set; port 0 lets the operating system assign one,
 * so the handler, whose `Host` check must name the real port, is built only once
 * the server is bound: no request is answered before it exists. A port that
 * cannot be bound is a refusal naming the address and the capset field.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";

/** A request handler. */
export type Handler = (request: Request) => Response | Promise<Response>;

/** Options for {@linkcode serveLoopback}. */
export interface ServeLoopbackOptions {
  /** The port the capset grants (0: assigned at bind time). */
  port: number;
  /** Who serves, for messages (`intake`, `the viewer`). */
  who: string;
  /** Builds the handler for the port actually bound. */
  build(port: number): Handler;
  /** Answers a request whose handler threw (logged by the caller). */
  onError(err: unknown): Response;
}

/** A server that listens. */
export interface LoopbackServer {
  /** The port bound (never 0). */
  port: number;
  /** `127.0.0.1:PORT`. */
  listen: string;
  shutdown(): Promise<void>;
}

/**
 * Binds `127.0.0.1:port`, builds the handler for the bound port and serves it.
 *
 * @example
 * ```ts
 * import { serveLoopback } from "./serve_loopback.ts";
 * const server = await serveLoopback({
 *   port: 0,
 *   who: "example",
 *   build: (port) => () => new Response(String(port)),
 *   onError: () => new Response("error", { status: 500 }),
 * });
 * const body = await (await fetch(`http://${server.listen}/`)).text();
 * if (body !== String(server.port)) throw new Error(body);
 * await server.shutdown();
 * ```
 */
export async function serveLoopback(options: ServeLoopbackOptions): Promise<LoopbackServer> {
  const handler = Promise.withResolvers<Handler>();
  const listening = Promise.withResolvers<number>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: options.port,
      // the default logs "Listening on …" to stdout, which carries only signed reports
      onListen: (addr) => listening.resolve(addr.port),
      onError: options.onError,
    }, async (request) => (await handler.promise)(request));
  } catch (err: unknown) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SaoeError(
      err instanceof Deno.errors.AddrInUse ? "bad_config" : "io_error",
      `Cannot start ${options.who}: cannot listen on 127.0.0.1:${options.port}, the address its capability set grants (net[0]): ${why}. Stop what holds the port, or publish a capability set with another port (0 lets the system choose)`,
      {},
      { cause: err },
    );
  }
  const port = await listening.promise;
  handler.resolve(options.build(port));
  return { port, listen: `127.0.0.1:${port}`, shutdown: () => server.shutdown() };
}
