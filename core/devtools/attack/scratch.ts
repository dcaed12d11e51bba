/**
 * Scratch pipelines for the attacks that need a tampered home or a tampered
 * repository (a swapped template, an edited or expired capset, a rolled-back
 * trust root, a revoked key, a modified tool module): the target's own home is
 * never touched. A scratch home is made with `init` from the repository's vault
 * sources, runs only the agents the attack needs, is tampered with by the
 * attack, and then the supervisor is started on it: a refusal at start is
 * returned (it is the defence under test for several attacks), otherwise the
 * attack runs against the live scratch pipeline. Everything is stopped and
 * removed afterwards.
 *
 * @module
 */
import { SaoeError } from "../../primitives/errors.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { SigningKey as Key } from "../../primitives/crypto/ed25519.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import { initHome } from "../../services/ceremony/init_home.ts";
import { type HomeConfig, readHomeConfig, writeHomeConfig } from "../../domain/home/config.ts";
import { type HomeLayout, homeLayout } from "../../domain/home/layout.ts";
import { type KeyStore, openKeyStore } from "../../domain/keys/keystore.ts";
import { startSupervisor, type Supervisor } from "../../services/supervisor/supervisor.ts";
import { LedgerProbe } from "./ledger_probe.ts";
import { copyVaultSources } from "./sources.ts";

/** A scratch home before its pipeline starts. */
export interface ScratchHome {
  root: string;
  home: HomeLayout;
  config: HomeConfig;
  keys: KeyStore;
  /** The dispatcher signing keys (a scratch home keeps them in its key store). */
  dispatchers(): Promise<SigningKey[]>;
}

/** A scratch pipeline that started. */
export interface ScratchRun {
  scratch: ScratchHome;
  supervisor: Supervisor;
  probe: LedgerProbe;
  /** Supervisor notices and agent stderr so far. */
  logs: string[];
}

/** The outcome of starting a scratch pipeline. */
export type ScratchStart =
  | { started: true; run: ScratchRun }
  | { started: false; error: unknown; logs: string[] };

/** Options for {@linkcode withScratch}. */
export interface ScratchOptions {
  /** The repository the vault sources come from. */
  repo: string;
  /** The repository the pipeline runs from; default `repo`. */
  runRepo?: string;
  /** The agents the scratch supervisor runs (`config.agents`). */
  agents: string[];
  /** Tampers with the home before the supervisor starts. */
  prepare?(scratch: ScratchHome): Promise<void>;
  log(line: string): void;
}

/** The code of a refusal (`SaoeError.code`), else `"error"`. */
export function codeOf(err: unknown): string {
  return err instanceof SaoeError ? err.code : "error";
}

/**
 * Creates a scratch home, lets `prepare` tamper with it, tries to start the
 * supervisor on it and hands the outcome to `body`; stops and removes
 * everything afterwards.
 */
export async function withScratch<T>(
  options: ScratchOptions,
  body: (start: ScratchStart) => Promise<T>,
): Promise<T> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-attack-scratch-" }));
  let supervisor: Supervisor | undefined;
  let probe: LedgerProbe | undefined;
  const logs: string[] = [];
  try {
    const sources = await copyVaultSources({ repo: options.repo });
    try {
      await initHome({ home: root, sources, repo: options.repo, clock: systemClock });
    } finally {
      await Deno.remove(sources, { recursive: true }).catch(() => {});
    }
    const home = homeLayout(root);
    const initial = await readHomeConfig(home.config);
    await writeHomeConfig(home.config, { ...initial, agents: options.agents });
    const keys = await openKeyStore(home.keys);
    const scratch: ScratchHome = {
      root,
      home,
      config: await readHomeConfig(home.config),
      keys,
      async dispatchers() {
        return await Promise.all((await keys.loadDispatchers()).map((s) => Key.fromSeed(s)));
      },
    };
    await options.prepare?.(scratch);
    options.log(`attack: starting a scratch pipeline (${options.agents.join(", ")}) on ${root}`);
    try {
      supervisor = await startSupervisor({
        home: root,
        repo: options.runRepo ?? options.repo,
        stopTimeoutMs: 3_000,
        watchTrust: false,
        log: (line) => logs.push(line),
      });
    } catch (err: unknown) {
      options.log(`attack: the scratch supervisor refused to start: ${codeOf(err)}`);
      return await body({ started: false, error: err, logs });
    }
    await supervisor.ready;
    probe = new LedgerProbe(home);
    return await body({ started: true, run: { scratch, supervisor, probe, logs } });
  } finally {
    probe?.close();
    await supervisor?.stop().catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(`${root}.witness`, { recursive: true }).catch(() => {});
  }
}
