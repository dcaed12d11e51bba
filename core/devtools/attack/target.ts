/**
 * Finding (or making) the live pipeline an attack run is aimed at. With
 * `--home H` and a supervisor running there (it holds the ledger's writer lock),
 * the run targets it. Otherwise, or with `fresh`, it makes its own: a new home in
 * a temp folder (intake and the viewer on system-assigned ports, the person quota raised so
 * the intake attacks do not starve each other, a small queue limit so a flood
 * reaches it), starts the supervisor in-process, and removes everything when the
 * run ends.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import { initHome } from "../../services/ceremony/init_home.ts";
import { type HomeConfig, readHomeConfig, writeHomeConfig } from "../../domain/home/config.ts";
import {
  homeLayout,
  ledgerPath,
  SUPERVISOR_ID,
  supervisorVersionsPath,
} from "../../domain/home/layout.ts";
import { ledgerWriterRunning } from "../../domain/ledger/ledger.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { preflight, type VerifiedHome } from "../../services/supervisor/preflight.ts";
import { readSupervisorStatus, serviceUrl } from "../../services/supervisor/status.ts";
import { startSupervisor, type Supervisor } from "../../services/supervisor/supervisor.ts";
import { ReadOnlyVersionStore } from "../../domain/trust/version_store_readonly.ts";
import { type AttackContext, createContext } from "./context.ts";
import { LedgerProbe } from "./ledger_probe.ts";
import { copyVaultSources } from "./sources.ts";

/** Intake limits of a home `saoe attack` makes for itself. */
export const FRESH_INTAKE_LIMITS: HomeConfig["intake"] = {
  person_per_minute: 60,
  automation_per_minute: 100,
  max_queue_depth: 4,
};

/** Options for {@linkcode openTarget}. */
export interface OpenTargetOptions {
  /** The home given with `--home`, if any. */
  home?: string;
  /** Always make a fresh temporary home, even when a pipeline runs on `home`. */
  fresh?: boolean;
  /** The repository root (symlink-free or not: it is resolved). */
  repo: string;
  /** Default 10 s. */
  timeoutMs?: number;
  log(line: string): void;
  clock?: Clock;
}

/** An opened target; `close` stops a pipeline the run started and removes its home. */
export interface OpenedTarget extends AsyncDisposable {
  ctx: AttackContext;
  close(): Promise<void>;
}

/** Where intake and the viewer of a running pipeline serve. */
interface ServiceUrls {
  intakeUrl: string | undefined;
  viewerUrl: string | undefined;
}

/** The URL a capset's fixed port names (none for port 0: only the running agent knows it). */
function fixedUrl(verified: VerifiedHome, agent: string): string | undefined {
  const grant = verified.capsets.get(agent)?.net[0];
  return grant === undefined || grant.endsWith(":0") ? undefined : `http://${grant}`;
}

async function contextFor(
  root: string,
  repo: string,
  options: OpenTargetOptions,
  fresh: boolean,
  urls: ServiceUrls,
): Promise<AttackContext> {
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config);
  const secrets = await (await openKeyStore(home.keys)).loadAgent(SUPERVISOR_ID);
  secrets.seed.fill(0);
  const verified = await preflight({
    home,
    config,
    ageIdentity: secrets.ageIdentity,
    repo,
    clock: options.clock ?? systemClock,
    versionStore: new ReadOnlyVersionStore(supervisorVersionsPath(home)),
  });
  return createContext({
    home,
    config,
    repo,
    verified,
    probe: new LedgerProbe(home),
    fresh,
    timeoutMs: options.timeoutMs ?? 10_000,
    log: options.log,
    intakeUrl: urls.intakeUrl ?? fixedUrl(verified, "intake"),
    viewerUrl: urls.viewerUrl ?? fixedUrl(verified, "viewer"),
  });
}

async function startFresh(repo: string, options: OpenTargetOptions): Promise<OpenedTarget> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-attack-" }));
  let supervisor: Supervisor | undefined;
  let ctx: AttackContext | undefined;
  const close = async () => {
    ctx?.probe.close();
    await supervisor?.stop().catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(`${root}.witness`, { recursive: true }).catch(() => {});
  };
  try {
    const sources = await copyVaultSources({ repo });
    try {
      await initHome({ home: root, sources, repo, clock: options.clock ?? systemClock });
    } finally {
      await Deno.remove(sources, { recursive: true }).catch(() => {});
    }
    const home = homeLayout(root);
    const config = await readHomeConfig(home.config);
    await writeHomeConfig(home.config, { ...config, intake: FRESH_INTAKE_LIMITS });
    options.log(`attack: starting a pipeline on a fresh home ${root}`);
    supervisor = await startSupervisor({
      home: root,
      repo,
      stopTimeoutMs: 5_000,
      log: (line) => options.log(`  ${line}`),
    });
    const states = await supervisor.ready;
    const down = states.filter((s) => s.state !== "up");
    if (down.length > 0) {
      throw new SaoeError(
        "io_error",
        `Cannot attack: agents did not start: ${
          down.map((s) => `${s.name} (${s.state})`).join(", ")
        }`,
      );
    }
    ctx = await contextFor(root, repo, options, true, {
      intakeUrl: supervisor.intakeUrl,
      viewerUrl: supervisor.viewerUrl,
    });
    const opened: OpenedTarget = {
      ctx,
      close,
      [Symbol.asyncDispose]: close,
    };
    return opened;
  } catch (err: unknown) {
    await close();
    throw err;
  }
}

/**
 * Opens the target of an attack run: the pipeline running on `options.home`, or
 * a fresh one.
 */
export async function openTarget(options: OpenTargetOptions): Promise<OpenedTarget> {
  const repo = await Deno.realPath(options.repo);
  if (options.fresh !== true && options.home !== undefined) {
    const root = await Deno.realPath(options.home).catch(() => undefined);
    if (root !== undefined && await ledgerWriterRunning(ledgerPath(homeLayout(root)))) {
      options.log(`attack: targeting the pipeline running on ${root}`);
      const status = await readSupervisorStatus(homeLayout(root)).catch(() => undefined);
      const ctx = await contextFor(root, repo, options, false, {
        intakeUrl: serviceUrl(status, "intake"),
        viewerUrl: serviceUrl(status, "viewer"),
      });
      const close = () => {
        ctx.probe.close();
        return Promise.resolve();
      };
      return { ctx, close, [Symbol.asyncDispose]: close };
    }
    options.log(`attack: no pipeline runs on ${options.home}; using a fresh temporary home`);
  }
  return await startFresh(repo, options);
}
