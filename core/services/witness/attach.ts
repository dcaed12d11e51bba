/**
 * Giving a home a witness (`saoe init` does it for a local one, `saoe witness
 * attach` for any): the witness learns the home's log (its origin and the
 * supervisor's checkpoint key), and the home's `config.json` names the witness
 * (its key name, cosignature key and URL) and the k-of-n policy.
 *
 * A local witness keeps its state outside the home, by default in a folder
 * beside it (`<home>.witness`): a witness in the folder an attacker of the home
 * can write would vouch for nothing. Run it as another user, or on another host,
 * to keep it out of reach of whoever runs the pipeline (docs/witness.md).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { encodeVkey } from "../../primitives/note/vkey.ts";
import type { PublicKeyEntry } from "../../primitives/dsse/types.ts";
import { type HomeConfig, readHomeConfig, writeHomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { logOrigin } from "../../domain/ledger/log_identity.ts";
import { addWitnessLog, initWitnessState, readWitnessInfo } from "./state.ts";

/** The URL of a local witness: the supervisor starts it on a port the system assigns. */
export const LOCAL_WITNESS_URL = "http://127.0.0.1:0";

/** Signature type of a log's checkpoint verifier key. */
const LOG_KEY_TYPE = 0x01;

/** The default state directory of a home's local witness: beside the home. */
export function defaultWitnessState(home: HomeLayout): string {
  return join(dirname(home.root), `${basename(home.root)}.witness`);
}

/** The home log's verifier key, for a witness's `add-log`. */
export function logVkey(rootPin: string, supervisorKey: PublicKeyEntry): string {
  return encodeVkey(logOrigin(rootPin), LOG_KEY_TYPE, supervisorKey.publicKey);
}

/** One witness entry of `config.json`. */
export type ConfigWitness = NonNullable<HomeConfig["witnesses"]>["list"][number];

/** Adds or replaces a witness in the home's config; returns the new config. */
export async function addConfigWitness(
  home: HomeLayout,
  witness: ConfigWitness,
  threshold?: number,
): Promise<HomeConfig> {
  const config = await readHomeConfig(home.config);
  const list = [...(config.witnesses?.list ?? []).filter((w) => w.name !== witness.name), witness];
  const next: HomeConfig = {
    ...config,
    witnesses: { threshold: threshold ?? config.witnesses?.threshold ?? 1, list },
  };
  await writeHomeConfig(home.config, next);
  return next;
}

/** Options for {@linkcode attachLocalWitness}. */
export interface AttachLocalWitnessOptions {
  home: HomeLayout;
  /** The home's config (its root pin names the log). */
  config: HomeConfig;
  /** The supervisor's public key (it signs the checkpoints). */
  supervisorKey: PublicKeyEntry;
  /** The witness's state directory; default {@linkcode defaultWitnessState}. */
  state?: string;
  /** Its key name when it is created; default `witness.local/<8 hex>`. */
  name?: string;
}

/** What {@linkcode attachLocalWitness} did. */
export interface AttachedWitness {
  name: string;
  vkey: string;
  state: string;
  /** True when the witness state was created now. */
  created: boolean;
  config: HomeConfig;
}

/**
 * Creates (or reuses) a local witness, registers the home's log with it and
 * names it in the home's config.
 *
 * @example
 * ```ts ignore
 * const attached = await attachLocalWitness({ home, config, supervisorKey });
 * console.log(attached.state, attached.vkey);
 * ```
 */
export async function attachLocalWitness(
  options: AttachLocalWitnessOptions,
): Promise<AttachedWitness> {
  const state = options.state ?? defaultWitnessState(options.home);
  const origin = logOrigin(options.config.root_pin);
  const vkey = logVkey(options.config.root_pin, options.supervisorKey);
  let created = false;
  let info = await readWitnessInfo(state).catch(() => undefined);
  if (info === undefined) {
    const nameHex = Array.from(crypto.getRandomValues(new Uint8Array(4)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    await Deno.mkdir(state, { recursive: true, mode: 0o700 });
    await initWitnessState({ dir: state, name: options.name ?? `witness.local/${nameHex}` });
    created = true;
    info = await readWitnessInfo(state);
  }
  const known = info.logs.find((l) => l.origin === origin);
  if (known === undefined) await addWitnessLog({ dir: state, origin, vkey });
  else if (known.vkey !== vkey) {
    throw new SaoeError(
      "bad_config",
      `The witness at ${state} knows the log ${origin} under another checkpoint key: it was attached to an earlier home with the same trust root, or the supervisor key changed; use another --state`,
    );
  }
  const config = await addConfigWitness(options.home, {
    name: info.name,
    vkey: info.vkey,
    url: LOCAL_WITNESS_URL,
    state: await Deno.realPath(state),
  });
  return { name: info.name, vkey: info.vkey, state, created, config };
}
