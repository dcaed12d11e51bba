/**
 * Dispatcher seeds brought to a key ceremony from passphrase-encrypted files
 * (`--dispatcher-key FILE`, the export of `saoe init --offline-dispatcher` or a
 * single-key file of a k-of-n holder). The passphrase comes from
 * `--passphrase-file F` or is asked on the terminal with echo off; a
 * non-terminal stdin without a passphrase file is refused, never read.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { readDispatcherExport } from "../../core/services/ceremony/dispatcher_export.ts";
import { promptPassphrase, readPassphraseFile } from "./passphrase.ts";
import { stdinTerminal } from "./terminal.ts";

/** Options for {@linkcode bringDispatcherSeeds}. */
export interface BringSeedsOptions {
  /** Passphrase-encrypted dispatcher key files. */
  files: readonly string[];
  /** A file whose first line is the passphrase (for every file). */
  passphraseFile?: string;
}

/**
 * Decrypts every file's seeds (the caller zeroes them after use).
 *
 * @example
 * ```ts
 * import { bringDispatcherSeeds } from "./dispatcher_seeds.ts";
 * if ((await bringDispatcherSeeds({ files: [] })).length !== 0) throw new Error();
 * ```
 */
export async function bringDispatcherSeeds(
  options: BringSeedsOptions,
): Promise<Uint8Array<ArrayBuffer>[]> {
  const seeds: Uint8Array<ArrayBuffer>[] = [];
  for (const file of options.files) {
    let passphrase: string;
    if (options.passphraseFile !== undefined) {
      passphrase = await readPassphraseFile(options.passphraseFile);
    } else if (Deno.stdin.isTerminal()) {
      passphrase = await promptPassphrase(stdinTerminal(), {
        what: `the dispatcher key file ${file}`,
        confirm: false,
      });
    } else {
      throw new SaoeError(
        "bad_credential",
        `Cannot open the dispatcher key file ${file}: standard input is not a terminal to ask its passphrase on (use --passphrase-file F)`,
        { file },
      );
    }
    seeds.push(...await readDispatcherExport({ path: file, passphrase }));
  }
  return seeds;
}
