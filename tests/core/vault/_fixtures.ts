/**
 * Fixtures for the vault tests: template plaintexts, dispatcher keys and a runner
 * for Debian's `age` CLI (interop tests fail, never skip, when it is missing).
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../../core/primitives/dsse/types.ts";

/** Exact plaintext bytes of a valid template `id`@`version`. */
export function templateBytes(
  id: string,
  version: number,
  description = `Template ${id} for tests`,
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(
    {
      id,
      version,
      description,
      schema: {
        type: "object",
        properties: { title: { type: "string" } },
        required: ["title"],
        additionalProperties: false,
      },
      policy: {
        allowed_senders: ["planner"],
        allowed_receivers: ["text_formatter"],
        max_payload_bytes: 65536,
      },
    },
    null,
    2,
  ));
}

/** A fresh Ed25519 key. */
export function newKey(): Promise<SigningKey> {
  return SigningKey.fromSeed(generateSeed());
}

/** A 1-of-1 trusted set holding `key`, as the verified trust root would give it. */
export function dispatcherSet(key: SigningKey): TrustedKeySet {
  return {
    name: "dispatcher",
    keys: [{ keyid: key.keyid, publicKey: key.publicKey }],
    threshold: 1,
  };
}

/** Output of one `age`/`age-keygen` run. */
export interface CliResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs `command` (`age` or `age-keygen`); fails with install advice when it is missing. */
export async function runCli(
  command: "age" | "age-keygen",
  args: string[],
): Promise<CliResult> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (err: unknown) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        `The ${command} CLI is not installed; the interop tests need it: apt-get install -y age`,
      );
    }
    throw err;
  }
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/** Runs the CLI and fails the test unless it exits 0. */
export async function runCliOk(command: "age" | "age-keygen", args: string[]): Promise<Uint8Array> {
  const result = await runCli(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout;
}
