/**
 * Shared fixtures of the CLI tests: a real home made by `initHome`, the CLI run
 * as a user runs it (a subprocess with exactly the `deno task saoe` flags from
 * deno.json), a ledger seeded by the supervisor's own checkpoint key and
 * cosigned by the home's own local witness (served in-process over real HTTP,
 * sent each checkpoint exactly as the supervisor sends it), dead letters written
 * by the queue module, and a held writer lock standing in for a running pipeline.
 *
 * @module
 */
import { join } from "node:path";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { SUPERVISOR_ID } from "../../core/domain/home/layout.ts";
import {
  type HomeLayout,
  ledgerPath,
  witnessedCheckpointPath,
} from "../../core/domain/home/layout.ts";
import { type HomeConfig, readHomeConfig } from "../../core/domain/home/config.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { type AuditEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import {
  type CheckpointWritten,
  type Ledger,
  lockPathFor,
  openLedger,
} from "../../core/domain/ledger/ledger.ts";
import { logOrigin } from "../../core/domain/ledger/log_identity.ts";
import { Witnessing } from "../../core/services/supervisor/witnessing.ts";
import { type ConfiguredWitness, witnessPolicy } from "../../core/services/witness/policy.ts";
import { startWitness, type WitnessServer } from "../../core/services/witness/server.ts";
import { WriterLock } from "../../core/domain/ledger/writer_lock.ts";
import { writeDeadRecord } from "../../core/domain/queue/dead_record.ts";
import type { DeadReason } from "../../core/domain/queue/dead_record.ts";
import { queuePaths } from "../../core/domain/queue/paths.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";

/** The repository root. */
export const REPO: string = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** A temp home; `cleanup()` removes it. */
export interface TestHome {
  root: string;
  home: HomeLayout;
  config: HomeConfig;
  cleanup(): Promise<void>;
}

/** Creates a complete home in a fresh temp folder (symlink-free path). */
export async function makeHome(prefix = "saoe-cli-"): Promise<TestHome> {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix }));
  // agents with their own uids (a supervisor running as root) must be able to enter it
  await Deno.chmod(tmp, 0o711);
  const root = join(tmp, "home");
  const created = await initHome({
    home: root,
    sources: join(REPO, "vault"),
    repo: REPO,
    clock: systemClock,
  });
  return {
    root,
    home: created.home,
    config: await readHomeConfig(created.home.config),
    cleanup: () => Deno.remove(tmp, { recursive: true }),
  };
}

/** The runtime flags of `deno task saoe`, read from deno.json (so the tests run what users run). */
export async function cliArgs(): Promise<string[]> {
  const deno = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json")));
  const task = String(deno.tasks.saoe).split(/\s+/);
  if (task[0] !== "deno") throw new Error(`unexpected saoe task ${deno.tasks.saoe}`);
  return task.slice(1);
}

/** What one CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `saoe <args>` in a subprocess from the repository root. */
export async function runCli(args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await cliArgs(), ...args],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The supervisor's checkpoint key from the home's key store. */
export async function supervisorKey(home: HomeLayout): Promise<SigningKey> {
  const secrets = await (await openKeyStore(home.keys)).loadAgent(SUPERVISOR_ID);
  return await SigningKey.fromSeed(secrets.seed);
}

/** The home's log origin (`logOrigin` of its root pin). */
export async function homeOrigin(home: HomeLayout): Promise<string> {
  return logOrigin((await readHomeConfig(home.config)).root_pin);
}

/**
 * Sends `checkpoint` to the home's witnesses as the supervisor does (each local
 * one served in-process from its state directory for the call) and stores what
 * they cosigned in the ledger and `audit/checkpoint`; throws unless the policy's
 * threshold cosigned it.
 */
export async function witnessCheckpoint(
  home: HomeLayout,
  ledger: Ledger,
  checkpoint: CheckpointWritten,
): Promise<void> {
  const config = await readHomeConfig(home.config);
  const policy = witnessPolicy(config);
  const servers: WitnessServer[] = [];
  const logs: string[] = [];
  try {
    const witnesses: ConfiguredWitness[] = [];
    for (const w of policy.witnesses) {
      if (w.state === undefined) witnesses.push(w);
      else {
        const server = await startWitness({ dir: w.state, port: 0, log: (l) => logs.push(l) });
        servers.push(server);
        witnesses.push({ ...w, url: server.url });
      }
    }
    const witnessing = new Witnessing({
      ledger,
      policy: { ...policy, witnesses },
      origin: logOrigin(config.root_pin),
      logKeys: {
        name: "supervisor checkpoint key",
        keys: [await supervisorKey(home)],
        threshold: 1,
      },
      sizes: new Map(),
      clock: systemClock,
      log: (line) => logs.push(line),
    });
    await witnessing.submit(checkpoint);
    await witnessing.close();
    if (witnessing.witnessedSize < checkpoint.treeSize) {
      throw new Error(
        `The witnesses did not cosign size ${checkpoint.treeSize}:\n${logs.join("\n")}`,
      );
    }
  } finally {
    await Promise.all(servers.map((s) => s.shutdown()));
  }
}

/**
 * Appends `events` to the home's ledger as the supervisor would; with
 * `checkpoint`, signs the new head and has the home's witness cosign it
 * (`witness: false` keeps it signed by the log key only).
 */
export async function seedLedger(
  home: HomeLayout,
  events: readonly AuditEvent[],
  options: { checkpoint?: boolean; witness?: boolean } = {},
): Promise<void> {
  const ledger = await openLedger({
    path: ledgerPath(home),
    checkpointKey: await supervisorKey(home),
    origin: await homeOrigin(home),
    witnessedPath: witnessedCheckpointPath(home),
  });
  try {
    ledger.append(events.map(encodeEvent));
    if (options.checkpoint) {
      const written = await ledger.checkpoint();
      if (options.witness !== false) await witnessCheckpoint(home, ledger, written);
    }
  } finally {
    ledger.close();
  }
}

/** Holds the ledger writer lock (as a running supervisor does) until `release()`. */
export async function holdWriterLock(home: HomeLayout): Promise<WriterLock> {
  await Deno.mkdir(home.audit, { recursive: true });
  return await WriterLock.acquire(lockPathFor(ledgerPath(home)));
}

/** Dead-letters a fake entry for `agent` the way the queue does; returns its key. */
export async function addDeadLetter(
  home: HomeLayout,
  agent: string,
  reason: Partial<DeadReason> & { sender?: string } = {},
): Promise<{ key: string; envelopeId: string }> {
  const paths = queuePaths(home, agent);
  await Deno.mkdir(paths.quarantine, { recursive: true });
  await Deno.mkdir(paths.dead, { recursive: true });
  const envelopeId = crypto.randomUUID();
  const file = `${envelopeId}.satl`;
  const path = join(paths.quarantine, file);
  await Deno.writeTextFile(path, "{}");
  const key = await writeDeadRecord({
    deadDir: paths.dead,
    path,
    reason: {
      code: "schema",
      message: "Invalid payload: title is missing",
      ids: { envelope_id: envelopeId, session_id: crypto.randomUUID(), sender: "intake" },
      at: new Date().toISOString(),
      file,
      sender: "intake",
      claimed: false,
      kept: true,
      ...reason,
    },
  });
  return { key, envelopeId };
}
