/**
 * Where a home's intake listens, for `saoe submit`: the address the running
 * pipeline's intake reported (`audit/status.json`; with a capset grant of port 0
 * the system chose it), else intake's default address. A submission therefore
 * goes to this home's intake, not to whichever intake holds the default port.
 *
 * @module
 */
import type { HomeLayout } from "../../core/domain/home/layout.ts";
import { DEFAULT_INTAKE_URL } from "../../core/services/intake/client.ts";
import { readSupervisorStatus, serviceUrl } from "../../core/services/supervisor/status.ts";
import { pipelineRunning } from "./pipeline_probe.ts";

/**
 * The intake URL of `home`'s running pipeline, or {@linkcode DEFAULT_INTAKE_URL}.
 *
 * @example
 * ```ts
 * import { intakeUrlOf } from "./intake_address.ts";
 * import { homeLayout } from "../../core/domain/home/layout.ts";
 * const dir = await Deno.makeTempDir();
 * if (await intakeUrlOf(homeLayout(dir)) !== "http://127.0.0.1:8090") throw new Error();
 * await Deno.remove(dir);
 * ```
 */
export async function intakeUrlOf(home: HomeLayout): Promise<string> {
  if (!await pipelineRunning(home)) return DEFAULT_INTAKE_URL;
  const status = await readSupervisorStatus(home).catch(() => undefined);
  return serviceUrl(status, "intake") ?? DEFAULT_INTAKE_URL;
}
