/**
 * The one wrapper of `age-encryption`: X25519 identities and recipients only,
 * binary (not armored) age files, interoperable both ways with the `age` CLI.
 *
 * Only native X25519 keys are accepted (`age1…` recipients, `AGE-SECRET-KEY-1…`
 * identities): the post-quantum, tag and passphrase modes the library also offers
 * are not part of the vault's format, and an identity is checked by shape before
 * the library sees it. Identities are secrets: no function here puts one in an
 * error message, and callers must never log them.
 *
 * @module
 */
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { SaoeError } from "../../primitives/errors.ts";

/** An X25519 age recipient: `age1` and 58 bech32 characters (lowercase). */
export const AGE_RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
/** An X25519 age identity: `AGE-SECRET-KEY-1` and 58 bech32 characters (uppercase). */
export const AGE_IDENTITY_RE = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

/** A freshly generated age key pair. */
export interface AgeKeyPair {
  /** The secret identity, `AGE-SECRET-KEY-1…`. Never log it. */
  identity: string;
  /** The public recipient, `age1…`. */
  recipient: string;
}

function checkIdentity(identity: string): void {
  // the value is a secret: the message never quotes it
  if (!AGE_IDENTITY_RE.test(identity)) {
    throw new SaoeError(
      "bad_config",
      "Invalid age identity: expected AGE-SECRET-KEY-1 and 58 characters",
    );
  }
}

function checkRecipient(recipient: string): void {
  if (!AGE_RECIPIENT_RE.test(recipient)) {
    throw new SaoeError(
      "bad_config",
      `Invalid age recipient ${
        JSON.stringify(recipient.slice(0, 80))
      }: expected an X25519 recipient age1 and 58 characters`,
    );
  }
}

/**
 * Generates a new X25519 age identity and its recipient.
 *
 * @example
 * ```ts
 * import { generateAgeIdentity } from "./age.ts";
 * const pair = await generateAgeIdentity();
 * if (!pair.recipient.startsWith("age1")) throw new Error();
 * ```
 */
export async function generateAgeIdentity(): Promise<AgeKeyPair> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/**
 * The recipient (public key) of an X25519 identity.
 *
 * @example
 * ```ts
 * import { generateAgeIdentity, recipientOf } from "./age.ts";
 * const pair = await generateAgeIdentity();
 * if (await recipientOf(pair.identity) !== pair.recipient) throw new Error();
 * ```
 */
export async function recipientOf(identity: string): Promise<string> {
  checkIdentity(identity);
  try {
    return await identityToRecipient(identity);
  } catch {
    throw new SaoeError("bad_config", "Invalid age identity: its key does not decode");
  }
}

/**
 * Encrypts `plaintext` to every recipient in `recipients` (binary age format).
 * An empty list or a malformed recipient is a `bad_config` refusal.
 *
 * @example
 * ```ts
 * import { decryptWith, encryptTo, generateAgeIdentity } from "./age.ts";
 * const pair = await generateAgeIdentity();
 * const ct = await encryptTo([pair.recipient], new TextEncoder().encode("hi"));
 * const pt = await decryptWith(pair.identity, ct);
 * if (new TextDecoder().decode(pt) !== "hi") throw new Error();
 * ```
 */
export async function encryptTo(
  recipients: readonly string[],
  plaintext: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (recipients.length === 0) {
    throw new SaoeError("bad_config", "Cannot encrypt: expected at least one age recipient");
  }
  const encrypter = new Encrypter();
  for (const recipient of new Set(recipients)) {
    checkRecipient(recipient);
    encrypter.addRecipient(recipient);
  }
  const out = await encrypter.encrypt(plaintext);
  return new Uint8Array(out);
}

/**
 * Decrypts a binary age file with one identity. Throws `vault_access` when the
 * identity is not among the file's recipients or the file is not a valid age file
 * (both mean: this agent cannot read it).
 *
 * @example
 * ```ts
 * import { decryptWith, encryptTo, generateAgeIdentity } from "./age.ts";
 * const alice = await generateAgeIdentity();
 * const bob = await generateAgeIdentity();
 * const ct = await encryptTo([alice.recipient], new Uint8Array([1]));
 * let refused = false;
 * try {
 *   await decryptWith(bob.identity, ct);
 * } catch {
 *   refused = true;
 * }
 * if (!refused) throw new Error();
 * ```
 */
export async function decryptWith(
  identity: string,
  ciphertext: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  checkIdentity(identity);
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  let out: Uint8Array;
  try {
    out = await decrypter.decrypt(ciphertext);
  } catch (err: unknown) {
    // the library's messages name no key material ("no identity matched …")
    const reason = err instanceof Error ? err.message : "unknown failure";
    throw new SaoeError("vault_access", `Cannot decrypt age file: ${reason}`);
  }
  return new Uint8Array(out);
}
