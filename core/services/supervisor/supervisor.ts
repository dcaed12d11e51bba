/**
 * The supervisor (`saoe pipeline`): the only long-lived process with broad
 * rights. This module starts it; `running.ts` is the running supervisor. At
 * startup it refuses to run on an unsafe or unverifiable home (links
 * in agent-visible folders, a broken trust root chain, directory, capability set
 * or tool manifest), creates the folders agents cannot create, opens the audit
 * ledger as its single writer (verified against its witnesses), refuses a trust
 * state below the ledger's high-water mark (the `trust_versions` events: a copy
 * of earlier trust files and version stores put back is a `rollback`, recorded
 * as `trust_refused` before it exits), and spawns every agent of `config.agents`
 * with exactly the command line its verified capset derives. While running it appends
 * the agents' verified audit events and its own (`agent_started`,
 * `agent_exited`, `sandbox_violation`, `checkpoint`) in batches, restarts
 * crashed agents with backoff, keeps `audit/status.json` current, and signs a
 * checkpoint every minute the ledger grew. {@linkcode Supervisor.stop} stops the
 * agents (a stop request on stdin, then SIGKILL after a grace period), drains their last events
 * and writes a final checkpoint.
 *
 * Key ceremonies while it runs (`saoe keys rotate|revoke|renew`, `saoe publish`):
 * the supervisor watches `trust/` and `vault/` (and reloads on SIGHUP or
 * {@linkcode Supervisor.reload}), re-runs the whole startup verification on the
 * new state and, only if it verifies, applies it: an agent whose keys were
 * revoked is killed and not restarted (status `revoked`), every other agent is
 * restarted one at a time (a stop request drains its in-flight work; its inbox waits for
 * the new process, so nothing is dropped) so it loads the new root, directory,
 * capsets and its new secrets, the revoked agent's receivers first; then
 * `key_rotated` records what changed (`detail.kind`: `dispatcher`, `agent`,
 * `revoked`, `renewed` when only statement versions changed, `reloaded` for any
 * other verified change such as a published template). A state that does not verify (a ceremony
 * half written, a planted file) is not applied: the agents keep running on the
 * state verified before. Agents load their trust once at start, which is why
 * they are restarted rather than told; a report line of an agent is checked
 * against the directory it was started with or the one in force.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { systemClock } from "../../primitives/time/clock.ts";
import { readHomeConfig } from "../../domain/home/config.ts";
import {
  agentSubdir,
  type HomeLayout,
  homeLayout,
  SUPERVISOR_ID,
  supervisorRequestsDir,
} from "../../domain/home/layout.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import { type AuditEvent, buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { scanSupervisorEvents } from "../../domain/ledger/event_scan.ts";
import type { Ledger } from "../../domain/ledger/ledger.ts";
import { floorWithEvent } from "../../domain/ledger/trust_versions.ts";
import {
  assertTrustFloor,
  EMPTY_FLOOR,
  type TrustFloor,
  TrustFloorError,
} from "../../domain/trust/trust_floor.ts";
import { parseTimestamp } from "../../primitives/time/timestamp.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import { checkpointKeySet } from "../../domain/trust/verified_trust.ts";
import { FileVersionStore } from "../../domain/trust/version_store_file.ts";
import { commandHashes } from "./agent_command.ts";
import { createAgentFolders } from "./folders.ts";
import { applyHomeOwnership } from "./home_ownership.ts";
import { checkSandbox, sandboxIdsFor } from "./sandbox_check.ts";
import { openWitnessedLedger } from "./ledger_start.ts";
import { witnessPolicy } from "../witness/policy.ts";
import { startLocalWitnesses } from "./local_witnesses.ts";
import { preflight, type VerifiedHome } from "./preflight.ts";
import { trustStateOf } from "./trust_mark.ts";
import { trustFingerprint } from "./reload.ts";
import { Running } from "./running.ts";
import { sweepStrays, visibleRoots } from "./stray_sweep.ts";
import type { StartSupervisorOptions, Supervisor } from "./types.ts";

export type { ReloadReport, StartSupervisorOptions, StopReport, Supervisor } from "./types.ts";

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function refusal(err: unknown, file: string, fix: string): SaoeError {
  const code = err instanceof SaoeError ? err.code : "io_error";
  return new SaoeError(
    code,
    `Refusing to start: ${file}: ${describe(err)}. Fix: ${fix}`,
    { file },
    { cause: err },
  );
}

/** How far back the ledger's operator request ids are remembered (requests live minutes). */
const REQUEST_MEMORY_MS = 60 * 60_000;

/**
 * One pass over the verified ledger: the trust floor of its `trust_versions`
 * events and the ids of the operator requests it recorded lately.
 */
function ledgerMarks(ledger: Ledger, nowMs: number): { floor: TrustFloor; seen: Set<string> } {
  let floor = EMPTY_FLOOR;
  const seen = new Set<string>();
  scanSupervisorEvents(ledger, ["trust_versions", "operator_action"], (event: AuditEvent) => {
    if (event.type === "trust_versions") {
      floor = floorWithEvent(floor, event);
      return;
    }
    const id = event.detail?.request_id;
    const at = parseTimestamp(event.at) ?? 0;
    if (typeof id === "string" && at >= nowMs - REQUEST_MEMORY_MS) seen.add(id);
  });
  return { floor, seen };
}

/**
 * Refuses to start on a trust state below the ledger's mark: records the
 * refusal as `trust_refused` in the ledger, then throws it (`rollback`).
 */
async function refuseBelowFloor(
  home: HomeLayout,
  verified: VerifiedHome,
  floor: TrustFloor,
  ledger: Ledger,
  clock: Clock,
  log: (line: string) => void,
): Promise<void> {
  try {
    await assertTrustFloor(trustStateOf(home, verified), floor, clock.now());
  } catch (err: unknown) {
    const why = describe(err);
    try {
      ledger.append([
        encodeEvent(buildEvent({
          type: "trust_refused",
          agent: SUPERVISOR_ID,
          reason: err instanceof SaoeError ? err.code : "rollback",
          detail: {
            message: why.slice(0, 500),
            phase: "start",
            root_version: verified.root.version,
            directory_version: verified.directory.version,
            ...(err instanceof TrustFloorError
              ? { kind: err.kind, version: err.version, recorded_version: err.recorded }
              : {}),
          },
        }, clock)),
      ]);
    } catch (appendErr: unknown) {
      log(`supervisor: cannot record the refusal in the ledger: ${describe(appendErr)}`);
    }
    throw new SaoeError(
      err instanceof SaoeError ? err.code : "rollback",
      `Refusing to start: ${why}`,
      err instanceof SaoeError ? err.ids : {},
      { cause: err },
    );
  }
}

async function resolveHome(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch (err: unknown) {
    throw new SaoeError(
      "bad_config",
      `Cannot start the pipeline: no SAOE home at ${path} (${
        err instanceof Deno.errors.NotFound ? "no such folder" : describe(err)
      }). Create one with "deno task saoe init --home ${path}" or run "saoe pipeline --init"`,
      { file: path },
    );
  }
}

/**
 * Verifies the home and starts every agent. Throws a refusal (nothing spawned)
 * when the home is unsafe or does not verify.
 *
 * @example
 * ```ts ignore
 * const supervisor = await startSupervisor({ home: ".saoe", repo: "." });
 * await supervisor.ready;
 * await supervisor.stop();
 * ```
 */
export async function startSupervisor(options: StartSupervisorOptions): Promise<Supervisor> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => console.error(line));
  const root = await resolveHome(options.home);
  const repo = await Deno.realPath(options.repo);
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config).catch((err: unknown) => {
    throw refusal(
      err,
      home.config,
      `correct it, or create the home with "deno task saoe init --home ${root}" (--force resets an existing one)`,
    );
  });
  // a planted link or FIFO is moved aside (and audited once the ledger is open), never fatal
  const strays = await sweepStrays(home, visibleRoots(home), clock);
  for (const s of strays) log(`supervisor: moved ${s.kind} ${s.from} aside to ${s.to}`);

  const keys = await openKeyStore(home.keys).catch((err: unknown) => {
    throw refusal(
      err,
      join(home.keys, "master.key"),
      "run the pipeline as the user who created the home, or re-create it",
    );
  });
  const secrets = await keys.loadAgent(SUPERVISOR_ID).catch((err: unknown) => {
    throw refusal(err, home.keys, "re-create the home (its supervisor key is missing)");
  });
  let signer: SigningKey;
  try {
    signer = await SigningKey.fromSeed(secrets.seed);
  } finally {
    secrets.seed.fill(0);
  }
  const storeDir = agentSubdir(home, SUPERVISOR_ID, "store");
  await Deno.mkdir(storeDir, { recursive: true, mode: 0o700 });
  const versionStore = new FileVersionStore(join(storeDir, "versions.json"));
  // before verifying: a change made during the verification is seen as a change later
  const fingerprint = await trustFingerprint(home);
  const verified = await preflight({
    home,
    config,
    ageIdentity: secrets.ageIdentity,
    repo,
    clock,
    versionStore,
    ...(options.deno !== undefined ? { deno: options.deno } : {}),
  });
  await createAgentFolders(home, verified.capsets.values());
  await checkSandbox(home, verified);
  const flagsSha256 = await commandHashes(verified.commands);
  for (const [agent, command] of verified.commands) {
    const exists = await Deno.lstat(command.entry).then((i) => i.isFile, () => false);
    if (!exists) {
      log(`supervisor: warning: ${command.entry} does not exist; agent "${agent}" will fail`);
    }
  }

  const logKeys = checkpointKeySet(verified.directory, clock.now());
  const configured = witnessPolicy(config);
  // a witness on this machine runs as its own process, stopped with the supervisor
  const locals = await startLocalWitnesses(configured, repo, log);
  let witnessed;
  try {
    witnessed = await openWitnessedLedger({
      home,
      config,
      signer,
      logKeys,
      policy: locals.policy,
    });
  } catch (err: unknown) {
    await locals.stop();
    throw err;
  }
  log(
    `supervisor: ledger verified against its witnesses: ${witnessed.verification.message}`,
  );
  // the high-water mark of the trust state is in the ledger the witnesses vouch for: a
  // copy of earlier trust files and version stores put back is refused here
  let marks: { floor: TrustFloor; seen: Set<string> };
  try {
    marks = ledgerMarks(witnessed.ledger, clock.now());
    await refuseBelowFloor(home, verified, marks.floor, witnessed.ledger, clock, log);
    await Deno.mkdir(supervisorRequestsDir(home), { recursive: true, mode: 0o700 });
    // after the ledger exists: its files join the audit group too
    await applyHomeOwnership(home, [...verified.capsets.values()], sandboxIdsFor(config));
  } catch (err: unknown) {
    witnessed.ledger.close();
    await locals.stop();
    throw err;
  }
  return new Running({
    options,
    clock,
    log,
    home,
    repo,
    config,
    keys,
    signer,
    ledger: witnessed.ledger,
    witnessed,
    localWitnesses: locals,
    logKeys,
    verified,
    flagsSha256,
    versionStore,
    fingerprint,
    floor: marks.floor,
    seenRequests: marks.seen,
    strays,
  });
}
