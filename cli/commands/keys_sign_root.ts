/**
 * `saoe keys sign-root FILE --key K`: adds one key holder's signature to a
 * pending trust root (k-of-n rotations across hosts; see
 * `core/services/ceremony/rotate_pending.ts`). K is the index of a dispatcher key in this
 * home's key store (`keys/dispatcher/<K>.age`) or a passphrase-encrypted
 * dispatcher key file; only keys of the root in force or of the pending root
 * sign, and a key that already signed is refused.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { writeFileAtomic } from "../../core/primitives/fs/atomic_write.ts";
import { readTrustFile } from "../../core/domain/trust/files.ts";
import { ROOT_MAX_BYTES } from "../../core/domain/trust/root.ts";
import { openCeremonyHome } from "../../core/services/ceremony/keys_home.ts";
import { bringDispatcherSeeds } from "../terminal/dispatcher_seeds.ts";
import {
  describePendingRoot,
  signPendingRoot,
} from "../../core/services/ceremony/rotate_pending.ts";
import { type Command, type CommandContext, EXIT } from "../_support/command.ts";
import { jsonText } from "../_support/output.ts";
import { UsageError, withUsage } from "../_support/usage.ts";
import { pendingLines } from "./keys_rotate.ts";

const PATH = ["keys", "sign-root"];

async function keysOf(
  ctx: CommandContext,
  home: Awaited<ReturnType<typeof openCeremonyHome>>,
  key: string,
): Promise<SigningKey[]> {
  if (/^[0-9]{1,2}$/.test(key)) {
    const index = Number(key);
    const seeds = await home.keys.loadDispatchers();
    const seed = seeds[index - 1];
    try {
      if (seed === undefined) {
        throw new SaoeError(
          "io_error",
          `No dispatcher key ${index} in ${home.home.keys}/dispatcher (this host holds ${seeds.length})`,
        );
      }
      return [await SigningKey.fromSeed(seed)];
    } finally {
      for (const s of seeds) s.fill(0);
    }
  }
  const passphraseFile = ctx.values["passphrase-file"];
  const seeds = await bringDispatcherSeeds({
    files: [key],
    ...(passphraseFile !== undefined ? { passphraseFile: String(passphraseFile) } : {}),
  });
  const out: SigningKey[] = [];
  for (const seed of seeds) {
    out.push(await SigningKey.fromSeed(seed));
    seed.fill(0);
  }
  return out;
}

async function run(ctx: CommandContext): Promise<number> {
  const file = ctx.positionals[0];
  if (file === undefined) throw new UsageError("Missing FILE (the pending trust root)");
  if (ctx.positionals.length > 1) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(ctx.positionals[1])}`);
  }
  const key = ctx.values.key === undefined ? undefined : String(ctx.values.key);
  if (key === undefined) {
    throw new UsageError("Missing --key K (a local dispatcher key index, or a key file)");
  }
  const ch = await openCeremonyHome({
    home: ctx.global.home,
    clock: systemClock,
    allowExpired: true,
  });
  let bytes: Uint8Array = await readTrustFile(file, ROOT_MAX_BYTES);
  const signers = await keysOf(ctx, ch, key);
  const signed: string[] = [];
  for (const signer of signers) {
    try {
      bytes = await signPendingRoot(ch.root, bytes, signer);
      signed.push(signer.keyid);
    } catch (err: unknown) {
      // one file may hold several keys: skip those that do not belong or already signed
      if (signers.length === 1 || !(err instanceof SaoeError) || err.code !== "root_signature") {
        throw err;
      }
    }
  }
  if (signed.length === 0) {
    throw new SaoeError(
      "root_signature",
      `No key in ${key} may sign the pending root (not a key of either root, or already signed)`,
    );
  }
  await writeFileAtomic(file, bytes);
  const status = await describePendingRoot(ch.root, bytes);
  if (ctx.global.json) {
    ctx.out(jsonText({ ok: true, signed, status }));
  } else {
    ctx.out(`Signed the pending trust root in ${file} with ${signed.join(", ")}`);
    for (const line of pendingLines(status)) ctx.out(line);
  }
  return EXIT.ok;
}

/** `saoe keys sign-root FILE --key K`. */
export const keysSignRootCommand: Command = {
  path: PATH,
  summary: "add one dispatcher key's signature to a pending trust root",
  usage: "FILE --key K [--passphrase-file F]",
  description: [
    "Adds a signature to the pending trust root in FILE (written by",
    '"saoe keys rotate dispatcher --pending FILE"). K is either the index of a dispatcher key',
    "in this home's key store (keys/dispatcher/K.age) or a passphrase-encrypted dispatcher key",
    "file (its passphrase is asked on the terminal, or read from --passphrase-file F). Only keys",
    "of the root in force or of the pending root may sign; a key signs once. Prints which keys",
    "have signed, which are missing and whether both thresholds are met.",
    "",
    "Exit codes: 0 signed, 1 refused, 2 usage.",
  ].join("\n"),
  options: {
    key: { type: "string", value: "K", help: "a local dispatcher key index or a key file" },
    "passphrase-file": {
      type: "string",
      value: "F",
      help: "read the key file's passphrase from F instead of the terminal",
    },
  },
  run(ctx) {
    return withUsage(PATH, ctx, () => run(ctx));
  },
};
