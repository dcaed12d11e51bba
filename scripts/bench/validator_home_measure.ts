/**
 * Validator throughput on a real home, run as its own process by
 * `validator_bench.ts` with write access denied on the vault (the vault reader
 * refuses a vault its process may write, as every agent's is): the planner's
 * trust state loaded by `loadAgentTrust` (root chain, key directory, the vault
 * opened with the planner's age identity, capsets verified from the vault), the
 * template resolved from the encrypted vault for every envelope (the reader's
 * cache re-checks the manifest), SQLite replay with `synchronous=normal` as the
 * agents open it, and envelopes signed with sanitization's real key. Prints one
 * {@linkcode BenchResult} as JSON.
 *
 * Usage: `validator_home_measure.ts <home> <count>`.
 *
 * @module
 */
import { join } from "node:path";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { readHomeConfig } from "../../core/domain/home/config.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { loadAgentTrust } from "../../core/services/runtime/agent_trust.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { FileVersionStore } from "../../core/domain/trust/version_store_file.ts";
import { MemoryQuotaStore } from "../../core/domain/validate/quota_store.ts";
import { SqliteReplayStore } from "../../core/domain/validate/replay_store.ts";
import { createValidator } from "../../core/domain/validate/validator.ts";
import { REPO } from "./_pipeline.ts";
import type { BenchResult } from "./types.ts";
import { validationRate, WARMUP } from "./_validation_rate.ts";

/** Validates `count` envelopes (20 of them warm-up) at the planner of the home at `root`. */
export async function measureHomeValidator(root: string, count: number): Promise<BenchResult> {
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config);
  const keys = await openKeyStore(home.keys);
  const planner = await keys.loadAgent("planner");
  const sanitization = await keys.loadAgent("sanitization");
  const trust = await loadAgentTrust({
    home,
    agent: "planner",
    ageIdentity: planner.ageIdentity,
    rootPin: config.root_pin,
    clock: systemClock,
    skewMs: config.skew_ms,
    versionStore: new FileVersionStore(join(root, "..", "bench_versions.json")),
  });
  const { sha256 } = await trust.vault.resolve("blog_article_intent", 1, ["blog_article_intent"]);
  using replay = SqliteReplayStore.open(join(root, "..", "bench_replay.db"), {
    synchronous: "normal",
  });
  const validator = createValidator({
    me: "planner",
    directory: trust.directory,
    capsets: trust.capsets,
    vault: trust.vault,
    replay,
    quota: new MemoryQuotaStore(),
    clock: systemClock,
    skewMs: config.skew_ms,
  });
  const markdown = await Deno.readTextFile(join(REPO, "scripts/demo/sample_article.md"));
  const value = await validationRate({
    validate: (bytes) => validator.validate(bytes),
    signer: await SigningKey.fromSeed(sanitization.seed),
    template: { id: "blog_article_intent", version: 1, sha256 },
    payload: (i) => ({ title: `Article ${i}`, markdown, image_count: 0 }),
    count,
  });
  return {
    name: "validator throughput (a real home: vault, capsets, agent keys, SQLite replay)",
    value,
    unit: "envelopes/s",
    target: 2_000,
    higherIsBetter: true,
    detail: { envelopes: count - WARMUP, template: "blog_article_intent", receiver: "planner" },
  };
}

if (import.meta.main) {
  const [root, count] = Deno.args;
  if (root === undefined || count === undefined || !/^[1-9][0-9]*$/.test(count)) {
    console.error("Usage: validator_home_measure.ts <home> <count>");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await measureHomeValidator(root, Number(count))));
}
