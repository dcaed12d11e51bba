/**
 * The foundation wired together on a real home made by `initHome`: trust root
 * chain from the pin, signed directory, encrypted vault opened with one agent's
 * own age identity, dispatcher-signed capsets of the agent and its peers, and the
 * 14-step validator — no test doubles for any of them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initHome } from "../../core/services/ceremony/init_home.ts";
import { openKeyStore } from "../../core/domain/keys/keystore.ts";
import { SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { isSaoeError, type ReasonCode } from "../../core/primitives/errors.ts";
import { homeLayout } from "../../core/domain/home/layout.ts";
import { readHomeConfig } from "../../core/domain/home/config.ts";
import { loadAgentTrust } from "../../core/services/runtime/agent_trust.ts";
import { MemoryVersionStore } from "../../core/domain/trust/version_store_memory.ts";
import { createValidator } from "../../core/domain/validate/validator.ts";
import { createEnvelope, signEnvelope } from "../../core/domain/validate/envelope.ts";
import { MemoryReplayStore } from "../../core/domain/validate/replay_store.ts";
import { MemoryQuotaStore } from "../../core/domain/validate/quota_store.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { FakeClock } from "../../core/devtools/testing/fake_clock.ts";
import { templateCipherPath } from "../../core/domain/vault/layout.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const SOURCES = join(REPO, "vault");
const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "saoe-foundation-" }));
const clean = await initHome({
  home: join(tmp, "clean"),
  sources: SOURCES,
  repo: REPO,
  clock: systemClock,
});
const swapped = await initHome({
  home: join(tmp, "swapped"),
  sources: SOURCES,
  repo: REPO,
  clock: systemClock,
});
// attacker with vault write access swaps one template for another validly encrypted one
await Deno.copyFile(
  templateCipherPath(swapped.home.vault, "image_process_intent", 1),
  templateCipherPath(swapped.home.vault, "blog_article_intent", 1),
);
const blogSha = await sha256Hex(
  await Deno.readFile(join(SOURCES, "templates/blog_article_intent.json")),
);
const READ_ONLY = { read: true, write: false, env: false, net: false, run: false } as const;

async function agentKeys(home: string, agent: string) {
  const store = await openKeyStore(homeLayout(home).keys);
  const secrets = await store.loadAgent(agent);
  return { secrets, signer: await SigningKey.fromSeed(secrets.seed) };
}

async function validatorFor(root: string, agent: string, clock = systemClock) {
  const home = homeLayout(root);
  const config = await readHomeConfig(home.config);
  const { secrets } = await agentKeys(root, agent);
  const trust = await loadAgentTrust({
    home,
    agent,
    ageIdentity: secrets.ageIdentity,
    rootPin: config.root_pin,
    clock,
    skewMs: config.skew_ms,
    versionStore: new MemoryVersionStore(),
  });
  const validator = createValidator({
    me: agent,
    directory: trust.directory,
    capsets: trust.capsets,
    vault: trust.vault,
    replay: new MemoryReplayStore(),
    quota: new MemoryQuotaStore(),
    clock,
  });
  return { trust, validator };
}

async function article(
  root: string,
  options: { from?: string; signAs?: string; to?: string; payload?: Record<string, unknown> } = {},
) {
  const from = options.from ?? "intake";
  const { signer } = await agentKeys(root, options.signAs ?? from);
  const fields = createEnvelope({
    sender: from,
    receiver: options.to ?? "sanitization",
    template: { id: "blog_article_intent", version: 1, sha256: blogSha },
    payload: (options.payload ?? { title: "Hello", markdown: "# Hi", image_count: 0 }) as never,
    human_readable: "an article",
  });
  return { fields, bytes: await signEnvelope({ fields, signer }) };
}

async function refusal(promise: Promise<unknown>): Promise<ReasonCode> {
  try {
    await promise;
  } catch (e: unknown) {
    if (isSaoeError(e)) return e.code;
    throw e;
  }
  assert.fail("expected a refusal");
}

Deno.test("initHome() writes the pinned root, the directory, encrypted capsets and templates, and config last", async () => {
  const config = await readHomeConfig(clean.home.config);
  const rootBytes = await Deno.readFile(join(clean.home.trust, "root/1.root.json"));
  assert.equal(config.root_pin, await sha256Hex(rootBytes));
  assert.deepEqual(config.agents.toSorted(), [
    "deployment",
    "image_filter",
    "intake",
    "planner",
    "sanitization",
    "text_formatter",
    "viewer",
  ]);
  const cipher = await Deno.readFile(
    templateCipherPath(clean.home.vault, "blog_article_intent", 1),
  );
  const text = new TextDecoder().decode(cipher);
  assert.ok(text.startsWith("age-encryption.org/v1"), "template stored as age ciphertext");
  assert.ok(!text.includes("allowed_senders"), "no plaintext in the vault");
  const keyFile = new TextDecoder().decode(
    await Deno.readFile(join(clean.home.keys, "agents/intake.age")),
  );
  assert.ok(!keyFile.includes("AGE-SECRET-KEY"), "agent secrets encrypted at rest");
});

Deno.test("initHome() refuses an existing home without force and resets it with force", async () => {
  const root = join(tmp, "clean");
  assert.equal(
    await refusal(initHome({ home: root, sources: SOURCES, repo: REPO, clock: systemClock })),
    "bad_config",
  );
  const second = join(tmp, "forced");
  await initHome({ home: second, sources: SOURCES, repo: REPO, clock: systemClock });
  const before = (await readHomeConfig(homeLayout(second).config)).root_pin;
  await Deno.writeTextFile(join(homeLayout(second).agents, "stale"), "x");
  await initHome({ home: second, sources: SOURCES, repo: REPO, clock: systemClock, force: true });
  assert.notEqual((await readHomeConfig(homeLayout(second).config)).root_pin, before);
  await assert.rejects(Deno.lstat(join(homeLayout(second).agents, "stale")), Deno.errors.NotFound);
});

Deno.test("loadAgentTrust() refuses a vault this process may write to (vault_writable)", async () => {
  assert.equal(await refusal(validatorFor(clean.home.root, "sanitization")), "vault_writable");
});

Deno.test({
  name: "a correctly signed intake article validates at sanitization with the real trust state",
  permissions: READ_ONLY,
  async fn() {
    const { validator } = await validatorFor(clean.home.root, "sanitization");
    const { fields, bytes } = await article(clean.home.root);
    const ok = await validator.validate(bytes);
    assert.equal(ok.envelope.envelope_id, fields.envelope_id);
    assert.equal(ok.template.id, "blog_article_intent");
    assert.equal(await refusal(validator.validate(bytes)), "replay");
  },
});

Deno.test({
  name:
    "real trust state refuses hop skipping, impersonation, schema violations and foreign templates",
  permissions: READ_ONLY,
  async fn() {
    const root = clean.home.root;
    const planner = await validatorFor(root, "planner");
    const skip = await article(root, { to: "planner" });
    assert.equal(await refusal(planner.validator.validate(skip.bytes)), "edge_not_allowed");

    const sanitization = await validatorFor(root, "sanitization");
    const impostor = await article(root, { from: "planner", signAs: "intake" });
    assert.equal(await refusal(sanitization.validator.validate(impostor.bytes)), "bad_signature");
    const extra = await article(root, {
      payload: { title: "t", markdown: "m", image_count: 0, x: 1 },
    });
    assert.equal(await refusal(sanitization.validator.validate(extra.bytes)), "schema");
    // sanitization is not a recipient of formatted_article, even if it asks for it in scope
    assert.equal(
      await refusal(
        sanitization.trust.vault.resolve("formatted_article", 1, ["formatted_article"]),
      ),
      "vault_access",
    );
  },
});

Deno.test({
  name: "a template swapped for another validly encrypted one is refused",
  permissions: READ_ONLY,
  async fn() {
    const { validator } = await validatorFor(swapped.home.root, "sanitization");
    const { bytes } = await article(swapped.home.root);
    const code = await refusal(validator.validate(bytes));
    assert.ok(code === "template_hash_mismatch" || code === "vault_resolution", code);
  },
});

Deno.test({
  name: "loadAgentTrust() refuses the trust state once it has expired",
  permissions: READ_ONLY,
  async fn() {
    const later = new FakeClock(Date.now() + 91 * 86_400_000);
    assert.equal(await refusal(validatorFor(clean.home.root, "sanitization", later)), "expired");
  },
});

Deno.test("cleanup of the foundation homes", async () => {
  await Deno.remove(tmp, { recursive: true });
});
