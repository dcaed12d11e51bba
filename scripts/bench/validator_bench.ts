/**
 * Validator throughput: envelopes per second through all fourteen steps, with
 * real Ed25519 signatures (each envelope is signed beforehand and verified during
 * the run), a real JSON Schema check and both replay stores. The ports around the
 * validator behave like the production ones after warm-up: the capability sets
 * and the template were verified once (with `verifyStatement`) and are served
 * from memory, as the real providers' caches do.
 *
 * `scripts/bench.ts` registers this module and calls {@linkcode run}.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex, utf8 } from "../../core/primitives/crypto/bytes.ts";
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { PAYLOAD_TYPES } from "../../core/primitives/dsse/types.ts";
import { signStatement } from "../../core/primitives/dsse/sign.ts";
import { verifyStatement } from "../../core/primitives/dsse/verify.ts";
import { type Capset, type CapsetSource, decodeCapset } from "../../core/domain/capset/types.ts";
import type { Template } from "../../core/domain/vault/template_types.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import { formatTimestamp } from "../../core/primitives/time/timestamp.ts";
import { MemoryQuotaStore } from "../../core/domain/validate/quota_store.ts";
import {
  MemoryReplayStore,
  type ReplayStore,
  SqliteReplayStore,
} from "../../core/domain/validate/replay_store.ts";
import { createValidator } from "../../core/domain/validate/validator.ts";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { REPO } from "./_pipeline.ts";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";
import { validationRate, WARMUP } from "./_validation_rate.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const DAY = 86_400_000;
const TARGET = 2_000;

function source(agent: string, peer: string, me: boolean): CapsetSource {
  return {
    agent,
    version: 1,
    receives: me ? [{ from: peer, templates: ["article_intent"] }] : [],
    sends: me ? [] : [{ to: peer, templates: ["article_intent"] }],
    tools: [],
    vault: me ? ["article_intent"] : [],
    fs: { read: [], write: [] },
    net: [],
    limits: {
      max_envelope_bytes: 65_536,
      quota_per_minute: 1_000_000,
      max_inbox_depth: 1000,
      max_quarantine: 1000,
    },
  };
}

async function signedCapset(
  src: CapsetSource,
  dispatcher: SigningKey,
  clock: FakeClock,
): Promise<Capset> {
  const bytes = await signStatement({
    payloadType: PAYLOAD_TYPES.capset,
    payload: { ...src, issued_at: formatTimestamp(T0), expires_at: formatTimestamp(T0 + DAY) },
    signers: [dispatcher],
  });
  const verified = await verifyStatement(bytes, {
    payloadType: PAYLOAD_TYPES.capset,
    trusted: [{ name: "dispatcher", keys: [dispatcher], threshold: 1 }],
    signatureCode: "capset_signature",
    what: "capset",
    decode: decodeCapset,
    clock,
    skewMs: 0,
    maxBytes: 1 << 20,
  });
  return verified.payload;
}

async function measure(
  name: string,
  count: number,
  replay: ReplayStore,
): Promise<BenchResult> {
  const clock = new FakeClock(T0);
  const dispatcher = await SigningKey.fromSeed(generateSeed());
  const sender = await SigningKey.fromSeed(generateSeed());
  const capsets = new Map<string, Capset>([
    ["planner", await signedCapset(source("planner", "sanitization", true), dispatcher, clock)],
    [
      "sanitization",
      await signedCapset(source("sanitization", "planner", false), dispatcher, clock),
    ],
  ]);
  const template: Template = {
    id: "article_intent",
    version: 1,
    description: "bench",
    schema: {
      type: "object",
      properties: {
        title: { type: "string", maxLength: 200 },
        markdown: { type: "string", maxLength: 100_000 },
      },
      required: ["title", "markdown"],
      additionalProperties: false,
    },
    policy: {
      allowed_senders: ["sanitization"],
      allowed_receivers: ["planner"],
      max_payload_bytes: 60_000,
    },
  };
  const sha256 = await sha256Hex(utf8(JSON.stringify(template)));
  const validator = createValidator({
    me: "planner",
    directory: {
      senderKeys: () => ({
        status: "ok",
        current: [{ keyid: sender.keyid, publicKey: sender.publicKey }],
        retired: [],
      }),
    },
    capsets: {
      inForce: (agent) => {
        const c = capsets.get(agent);
        return c === undefined
          ? Promise.reject(new Error(`no capset ${agent}`))
          : Promise.resolve(c);
      },
    },
    vault: { resolve: () => Promise.resolve({ template, sha256 }) },
    replay,
    quota: new MemoryQuotaStore(),
    clock,
  });
  const markdown = "Lorem ipsum dolor sit amet. ".repeat(40);
  const value = await validationRate({
    validate: (bytes) => validator.validate(bytes),
    signer: sender,
    template: { id: "article_intent", version: 1, sha256 },
    payload: (i) => ({ title: `Article ${i}`, markdown }),
    count,
    clock,
  });
  return {
    name,
    value,
    unit: "envelopes/s",
    target: TARGET,
    higherIsBetter: true,
    detail: { envelopes: count - WARMUP },
  };
}

/**
 * The validator exactly as the planner agent builds it, on a fresh home, in a
 * child process that cannot write the vault (the vault reader refuses to open
 * a vault its process may write): see `validator_home_measure.ts`.
 */
async function measureRealHome(dir: string, count: number): Promise<BenchResult> {
  const { home } = await initHome({
    home: join(dir, "home"),
    sources: join(REPO, "vault"),
    repo: REPO,
    clock: systemClock,
  });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--frozen",
      "--cached-only",
      `--allow-read=${REPO},${dir}`,
      `--allow-write=${dir}`,
      `--deny-write=${home.vault}`,
      fileURLToPath(new URL("./validator_home_measure.ts", import.meta.url)),
      home.root,
      String(count),
    ],
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`validator_home_measure.ts failed with exit code ${out.code}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!) as BenchResult;
}

/** Validator throughput with a memory replay store and the SQLite one at both durability levels. */
export const validatorBench: BenchModule = {
  name: "validator",
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const count = ctx.quick ? 520 : 5020;
    const results = [
      await measure("validator throughput (memory replay store)", count, new MemoryReplayStore()),
    ];
    for (const synchronous of ["normal", "full"] as const) {
      using store = SqliteReplayStore.open(join(ctx.tempDir, `replay_${synchronous}.db`), {
        synchronous,
      });
      const result = await measure(
        `validator throughput (SQLite replay, synchronous=${synchronous})`,
        count,
        store,
      );
      // FULL fsyncs every claim: its rate is the disk's, reported for the record
      if (synchronous === "full") result.informational = true;
      results.push(result);
    }
    results.push(await measureRealHome(ctx.tempDir, count));
    return results;
  },
};
