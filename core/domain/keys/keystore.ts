/**
 * The key store under `<home>/keys/`: dispatcher signing seeds and each agent's
 * signing seed and age identity, every file age-encrypted to the home's master
 * identity (`keys/master.key`, mode 0600). Only the supervisor and the operator's
 * ceremonies open it; no agent is ever granted read access to `keys/` (the capset
 * permission function refuses it), so an agent receives its secrets over stdin
 * from the supervisor that launched it (docs/design.md section 1), never from a
 * file it can read.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { fromBase64, toBase64, utf8 } from "../../primitives/crypto/bytes.ts";
import { SEED_BYTES } from "../../primitives/crypto/ed25519.ts";
import { AGENT_ID_RE, assertIdentifier } from "../../primitives/ids/patterns.ts";
import { obj, str } from "../../primitives/json/decode.ts";
import { parseStrictJson } from "../../primitives/json/strict_parse.ts";
import {
  AGE_IDENTITY_RE,
  decryptWith,
  encryptTo,
  generateAgeIdentity,
  recipientOf,
} from "../vault/age.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";

/** Secrets of one agent (or of the supervisor): never logged, never written in the clear. */
export interface AgentSecrets {
  agent: string;
  /** 32-byte Ed25519 seed. */
  seed: Uint8Array<ArrayBuffer>;
  /** age X25519 identity (`AGE-SECRET-KEY-1…`). */
  ageIdentity: string;
}

const MAX_KEY_FILE_BYTES = 64 * 1024;
const decodeAgentFile = obj({
  kind: str({ pattern: /^agent$/ }),
  agent: str({ pattern: AGENT_ID_RE, maxLength: 32 }),
  ed25519_seed: str({ maxLength: 64 }),
  age_identity: str({ pattern: AGE_IDENTITY_RE, maxLength: 128 }),
});
const decodeDispatcherFile = obj({
  kind: str({ pattern: /^dispatcher$/ }),
  ed25519_seed: str({ maxLength: 64 }),
});

async function readSecretFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    throw new SaoeError("io_error", `Cannot read key file ${path}: it does not exist`, {
      file: path,
    });
  }
  // a planted link would make the supervisor read (and hand out) another file
  if (!info.isFile || info.isSymlink || (info.nlink ?? 1) !== 1 || info.size > MAX_KEY_FILE_BYTES) {
    throw new SaoeError(
      "unsafe_path",
      `Cannot read key file ${path}: not a regular single-link file`,
      {
        file: path,
      },
    );
  }
  return await Deno.readFile(path);
}

function seedFrom(text: string, path: string): Uint8Array<ArrayBuffer> {
  const seed = fromBase64(text, `seed in ${path}`);
  if (seed.byteLength !== SEED_BYTES) {
    throw new SaoeError("parse_error", `Invalid key file ${path}: seed is not ${SEED_BYTES} bytes`);
  }
  return seed;
}

/**
 * An opened key store.
 *
 * @example
 * ```ts
 * import { createKeyStore } from "./keystore.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await createKeyStore(dir);
 * const secrets = await store.createAgent("planner");
 * const again = await store.loadAgent("planner");
 * if (again.ageIdentity !== secrets.ageIdentity) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class KeyStore {
  readonly #dir: string;
  readonly #identity: string;
  readonly #recipient: string;

  /** Use {@linkcode createKeyStore} or {@linkcode openKeyStore}. */
  constructor(dir: string, identity: string, recipient: string) {
    this.#dir = dir;
    this.#identity = identity;
    this.#recipient = recipient;
  }

  /** The folder of this store. */
  get dir(): string {
    return this.#dir;
  }

  #agentPath(agent: string): string {
    return join(this.#dir, "agents", `${assertIdentifier(agent, AGENT_ID_RE, "agent id")}.age`);
  }

  #dispatcherPath(index: number): string {
    if (!Number.isSafeInteger(index) || index < 1 || index > 64) {
      throw new RangeError(`dispatcher key index ${index} out of range`);
    }
    return join(this.#dir, "dispatcher", `${index}.age`);
  }

  async #write(path: string, doc: Record<string, string>): Promise<void> {
    const cipher = await encryptTo([this.#recipient], utf8(JSON.stringify(doc)));
    await writeFileAtomic(path, cipher, { mode: 0o600 });
  }

  async #read(path: string): Promise<Record<string, unknown>> {
    const plain = await decryptWith(this.#identity, await readSecretFile(path));
    try {
      return parseStrictJson(plain, { maxBytes: MAX_KEY_FILE_BYTES });
    } finally {
      plain.fill(0);
    }
  }

  /** Generates and stores new secrets for `agent` (replacing any). */
  async createAgent(agent: string): Promise<AgentSecrets> {
    const secrets: AgentSecrets = {
      agent,
      seed: crypto.getRandomValues(new Uint8Array(SEED_BYTES)),
      ageIdentity: (await generateAgeIdentity()).identity,
    };
    await this.saveAgent(secrets);
    return secrets;
  }

  /** Stores `secrets` encrypted. */
  async saveAgent(secrets: AgentSecrets): Promise<void> {
    await this.#write(this.#agentPath(secrets.agent), {
      kind: "agent",
      agent: secrets.agent,
      ed25519_seed: toBase64(secrets.seed),
      age_identity: secrets.ageIdentity,
    });
  }

  /** Loads an agent's secrets. */
  async loadAgent(agent: string): Promise<AgentSecrets> {
    const path = this.#agentPath(agent);
    const doc = decodeAgentFile(await this.#read(path), "$");
    if (doc.agent !== agent) {
      throw new SaoeError(
        "parse_error",
        `Invalid key file ${path}: it holds keys of "${doc.agent}"`,
      );
    }
    return { agent, seed: seedFrom(doc.ed25519_seed, path), ageIdentity: doc.age_identity };
  }

  /** Stores dispatcher seed number `index` (1-based). */
  async saveDispatcher(index: number, seed: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.#write(this.#dispatcherPath(index), {
      kind: "dispatcher",
      ed25519_seed: toBase64(seed),
    });
  }

  /** Loads every dispatcher seed present, in index order. */
  async loadDispatchers(): Promise<Uint8Array<ArrayBuffer>[]> {
    const seeds: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 1; i <= 64; i++) {
      const path = this.#dispatcherPath(i);
      const exists = await Deno.lstat(path).then(() => true, () => false);
      if (!exists) break;
      seeds.push(seedFrom(decodeDispatcherFile(await this.#read(path), "$").ed25519_seed, path));
    }
    return seeds;
  }
}

/** Creates a new key store in `dir` with a fresh master identity. */
export async function createKeyStore(dir: string): Promise<KeyStore> {
  await Deno.mkdir(join(dir, "agents"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(join(dir, "dispatcher"), { recursive: true, mode: 0o700 });
  const master = await generateAgeIdentity();
  await writeFileAtomic(join(dir, "master.key"), utf8(`${master.identity}\n`), { mode: 0o600 });
  return new KeyStore(dir, master.identity, master.recipient);
}

/** Opens the key store in `dir`. */
export async function openKeyStore(dir: string): Promise<KeyStore> {
  const path = join(dir, "master.key");
  const text = new TextDecoder().decode(await readSecretFile(path)).trim();
  if (!AGE_IDENTITY_RE.test(text)) {
    throw new SaoeError("parse_error", `Invalid master key ${path}: expected one age identity`);
  }
  return new KeyStore(dir, text, await recipientOf(text));
}
