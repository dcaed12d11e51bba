/**
 * The witness protocol's fixed names, shared by the server and the client:
 * the two endpoint paths (after the witness's URL prefix) and the content type
 * of a 409 answer that names the stored size (c2sp.org/tlog-witness).
 *
 * @module
 */

/** Path of the submission endpoint (c2sp.org/tlog-witness). */
export const ADD_CHECKPOINT_PATH = "/add-checkpoint";
/** Path of SAOE's read extension (docs/witness.md). */
export const CHECKPOINT_PATH = "/checkpoint";
/** Content type of a 409 answer whose body is the size last cosigned. */
export const SIZE_CONTENT_TYPE = "text/x.tlog.size";

/**
 * The URL of `path` under the witness prefix `base`, keeping any path prefix.
 *
 * @example
 * ```ts
 * import { endpoint } from "./protocol.ts";
 * if (endpoint("http://127.0.0.1:8075", "/add-checkpoint").href !== "http://127.0.0.1:8075/add-checkpoint") {
 *   throw new Error();
 * }
 * if (endpoint("https://w.example/w1/", "/checkpoint").pathname !== "/w1/checkpoint") throw new Error();
 * ```
 */
export function endpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = "";
  url.hash = "";
  return url;
}
