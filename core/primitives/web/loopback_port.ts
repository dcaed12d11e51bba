/**
 * The loopback port an agent may listen on, read from its verified capability
 * set's `net` grants (`127.0.0.1:PORT`): intake and the viewer bind exactly it.
 * Port 0 asks the operating system for a free port at bind time (Deno's
 * `--allow-net=127.0.0.1:0` permits exactly that); the agent then reports the
 * port it got in its ready line.
 *
 * @module
 */
import { SaoeError } from "../errors.ts";

const LOOPBACK_RE = /^127\.0\.0\.1:(0|[1-9][0-9]{0,4})$/;

/**
 * The first `127.0.0.1:PORT` grant of `net` (0: assigned at bind time), or
 * `bad_config` naming `who`.
 *
 * @example
 * ```ts
 * import { loopbackPort } from "./loopback_port.ts";
 * if (loopbackPort(["127.0.0.1:8090"], "intake") !== 8090) throw new Error();
 * if (loopbackPort(["127.0.0.1:0"], "intake") !== 0) throw new Error();
 * ```
 */
export function loopbackPort(net: readonly string[], who: string): number {
  for (const address of net) {
    const match = LOOPBACK_RE.exec(address);
    const port = match === null ? NaN : Number(match[1]);
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  }
  throw new SaoeError(
    "bad_config",
    `Cannot start ${who}: its capability set grants no 127.0.0.1:PORT address (net is ${
      JSON.stringify(net)
    })`,
  );
}
