/**
 * The `--dispatcher-key FILE [--passphrase-file F]` options every signing
 * command shares (publish, keys renew/revoke/rotate): their definitions, and
 * the seeds they bring (`bringDispatcherSeeds`: passphrase from the file or the
 * terminal, never from a non-terminal stdin).
 *
 * @module
 */
import { bringDispatcherSeeds } from "../terminal/dispatcher_seeds.ts";
import type { CommandContext, OptionSpec } from "./command.ts";

/** The option definitions, to spread into a command's `options`. */
export const DISPATCHER_KEY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "dispatcher-key": {
    type: "string",
    multiple: true,
    value: "FILE",
    help: "an exported dispatcher key file (homes made with --offline-dispatcher)",
  },
  "passphrase-file": {
    type: "string",
    value: "F",
    help: "read the dispatcher key file's passphrase from F instead of the terminal",
  },
};

/** The dispatcher key files and passphrase file given on the command line. */
export interface DispatcherKeySource {
  files: string[];
  passphraseFile: string | undefined;
}

/** Reads `--dispatcher-key` (repeatable) and `--passphrase-file` from `ctx`. */
export function dispatcherKeySource(ctx: CommandContext): DispatcherKeySource {
  const given = ctx.values["dispatcher-key"];
  const files = given === undefined ? [] : (Array.isArray(given) ? given : [given]).map(String);
  const passphrase = ctx.values["passphrase-file"];
  return { files, passphraseFile: passphrase === undefined ? undefined : String(passphrase) };
}

/** Decrypts the seeds of the given key files (none when no file was given). */
export function broughtSeeds(source: DispatcherKeySource): Promise<Uint8Array<ArrayBuffer>[]> {
  return bringDispatcherSeeds({
    files: source.files,
    ...(source.passphraseFile !== undefined ? { passphraseFile: source.passphraseFile } : {}),
  });
}
