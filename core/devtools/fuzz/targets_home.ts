/**
 * Envelope fuzz targets: the real 14-step validator of two receiving agents
 * (sanitization and deployment), built from a home made by `initHome` with the
 * real ports — trust root chain from the pin, signed key directory, the vault
 * opened with the agent's own age identity, dispatcher-signed capsets — exactly
 * as `tests/integration/foundation_home_test.ts` does. Must be called without
 * write access to the home's vault (`loadAgentTrust` refuses a writable vault).
 *
 * Seeds are envelopes of each allowed edge, signed by the sender's real key; a
 * re-signed mutation is signed by that key too (a compromised sender). Replay and
 * quota stores start empty for every input, so every mutation reaches every step.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { openKeyStore } from "../../domain/keys/keystore.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import { readHomeConfig } from "../../domain/home/config.ts";
import { loadAgentTrust } from "../../services/runtime/agent_trust.ts";
import { MemoryVersionStore } from "../../domain/trust/version_store_memory.ts";
import { createValidator } from "../../domain/validate/validator.ts";
import { createEnvelope, signEnvelope } from "../../domain/validate/envelope.ts";
import { MemoryReplayStore, type ReplayStore } from "../../domain/validate/replay_store.ts";
import { MemoryQuotaStore, type QuotaStore } from "../../domain/validate/quota_store.ts";
import type { Clock } from "../../primitives/time/clock.ts";
import type { JsonObject } from "../../primitives/json/strict_parse.ts";
import type { FuzzTarget } from "./target.ts";

/** A replay store emptied before each input (each mutation must reach step 14). */
class FreshReplay implements ReplayStore {
  #inner = new MemoryReplayStore();
  reset(): void {
    this.#inner = new MemoryReplayStore();
  }
  claim(id: string): Promise<boolean> {
    return this.#inner.claim(id);
  }
}

/** A quota store emptied before each input. */
class FreshQuota implements QuotaStore {
  #inner = new MemoryQuotaStore();
  reset(): void {
    this.#inner = new MemoryQuotaStore();
  }
  take(sender: string, nowMs: number, limit: number): boolean {
    return this.#inner.take(sender, nowMs, limit);
  }
}

interface Edge {
  from: string;
  template: string;
  payload: JsonObject;
  human_readable: string;
}

const SHA = "9f".repeat(32);

const EDGES: Record<string, Edge[]> = {
  sanitization: [
    {
      from: "intake",
      template: "blog_article_intent",
      payload: {
        title: "Hello <b>world</b>",
        markdown: "# Hi\n\n[x](javascript:alert(1)) caf\u00e9 \u{1f600}",
        image_count: 1,
      },
      human_readable: "an article with one image",
    },
    {
      from: "intake",
      template: "image_process_intent",
      payload: { upload_file: `${SHA}.png`, sha256: SHA, media_type: "image/png", index: 0 },
      human_readable: "image 0",
    },
  ],
  deployment: [
    {
      from: "text_formatter",
      template: "formatted_article",
      payload: { title: "Hello", html: "<h1>Hi</h1><p>there</p>", image_count: 1 },
      human_readable: "formatted",
    },
    {
      from: "image_filter",
      template: "sanitized_image",
      payload: {
        file: `${SHA}.jpg`,
        sha256: SHA,
        media_type: "image/jpeg",
        width: 640,
        height: 480,
        index: 0,
      },
      human_readable: "sanitised image 0",
    },
  ],
};

/** Options for {@linkcode homeTargets}. */
export interface HomeTargetsOptions {
  home: HomeLayout;
  /** The repository's `vault/` sources (template hashes are taken from them). */
  sources: string;
  /** A fixed clock for the whole run (envelopes are issued and checked at its time). */
  clock: Clock;
}

/** The envelope targets of a home: one per receiving agent. */
export async function homeTargets(options: HomeTargetsOptions): Promise<FuzzTarget[]> {
  const { home, clock } = options;
  const config = await readHomeConfig(home.config);
  const store = await openKeyStore(home.keys);
  const targets: FuzzTarget[] = [];
  for (const [me, edges] of Object.entries(EDGES)) {
    const secrets = await store.loadAgent(me);
    const trust = await loadAgentTrust({
      home,
      agent: me,
      ageIdentity: secrets.ageIdentity,
      rootPin: config.root_pin,
      clock,
      skewMs: config.skew_ms,
      versionStore: new MemoryVersionStore(),
    });
    const replay = new FreshReplay();
    const quota = new FreshQuota();
    const validator = createValidator({
      me,
      directory: trust.directory,
      capsets: trust.capsets,
      vault: trust.vault,
      replay,
      quota,
      clock,
      skewMs: config.skew_ms,
    });
    const seeds: Uint8Array[] = [];
    const signers = new Map<string, SigningKey>();
    for (const edge of edges) {
      const signer = await SigningKey.fromSeed((await store.loadAgent(edge.from)).seed);
      signers.set(edge.from, signer);
      const sha256 = await sha256Hex(
        await Deno.readFile(join(options.sources, "templates", `${edge.template}.json`)),
      );
      const fields = createEnvelope({
        sender: edge.from,
        receiver: me,
        template: { id: edge.template, version: 1, sha256 },
        payload: edge.payload,
        human_readable: edge.human_readable,
        clock,
      });
      seeds.push(await signEnvelope({ fields, signer }));
    }
    targets.push({
      kind: `envelope_${me}`,
      seeds,
      maxBytes: trust.capset.limits.max_envelope_bytes,
      reproducible: false,
      verify: async (bytes) => {
        replay.reset();
        quota.reset();
        return (await validator.validate(bytes)).envelope;
      },
      // a compromised sender signs whatever it likes with its own key: the payload
      // names the sender whose key must sign; an unknown one is signed by the first
      resign: async (payload) => {
        let sender = edges[0]!.from;
        try {
          const claimed = (JSON.parse(new TextDecoder().decode(payload)) as { sender?: unknown })
            .sender;
          if (typeof claimed === "string" && signers.has(claimed)) sender = claimed;
        } catch {
          // not JSON: any key will do
        }
        return await signStatement({
          payloadType: PAYLOAD_TYPES.envelope,
          payload,
          signers: [signers.get(sender)!],
        });
      },
    });
  }
  return targets;
}
