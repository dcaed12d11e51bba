/**
 * Rollback-proof trust: after `saoe keys revoke intake` was applied, someone who
 * can write the home copies the earlier `trust/` folder and every
 * `versions.json` (the agents' and the supervisor's) back. The version stores
 * alone would accept that state again; the high-water mark in the witnessed
 * ledger (`trust_versions` events) does not:
 *
 * - stopped: the supervisor refuses to start with `rollback`, names the kind and
 *   both versions, records `trust_refused` in the ledger, and nothing runs (the
 *   revoked key's envelope waits in the inbox unvalidated, nothing is published);
 * - a revocation done while the pipeline is stopped records the mark itself
 *   (`trust_versions` with its `key_rotated`), so the copy-back is refused too;
 * - running: the same copy-back is refused on reload, and an agent restarted over
 *   it refuses the earlier trust state (its floor came with its handover) and,
 *   once the current state is back, the revoked key's envelope as `revoked_key`.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { keyIdOf, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { revokeAgent } from "../../core/services/ceremony/keys_revoke.ts";
import {
  articlePayload,
  ledgerEvents,
  makeTestHome,
  startTestSupervisor,
  type TestHome,
  waitFor,
  waitForEvent,
  waitUntilUp,
} from "./_harness.ts";
import { injectSignedWith } from "./_keys.ts";

const processTest = { sanitizeOps: false, sanitizeResources: false };

/** Every file under `dir`, by path relative to it. */
async function files(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (folder: string) => {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) out.set(relative(dir, path), await Deno.readFile(path));
    }
  };
  await walk(dir);
  return out;
}

/** Every `agents/<agent>/store/versions.json` of the home, by absolute path. */
async function versionStores(t: TestHome): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const entry of Deno.readDir(t.home.agents)) {
    const path = join(t.home.agents, entry.name, "store", "versions.json");
    const bytes = await Deno.readFile(path).catch(() => undefined);
    if (bytes !== undefined) out.set(path, bytes);
  }
  return out;
}

/** Puts `dir` back as `earlier` was, file by file (what an attacker with a backup does). */
async function putBack(dir: string, earlier: Map<string, Uint8Array>): Promise<void> {
  for (const path of (await files(dir)).keys()) {
    if (!earlier.has(path)) await Deno.remove(join(dir, path));
  }
  for (const [path, bytes] of earlier) await writeOver(join(dir, path), bytes);
}

async function writeOver(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.restore`;
  await Deno.writeFile(temp, bytes);
  await Deno.rename(temp, path);
}

/** The copy-back: the earlier trust folder and every version store as they were. */
async function copyBack(
  t: TestHome,
  trust: Map<string, Uint8Array>,
  stores: Map<string, Uint8Array>,
): Promise<void> {
  await putBack(t.home.trust, trust);
  for (const [path, bytes] of stores) await writeOver(path, bytes);
}

Deno.test({
  name:
    "a trust state copied back (trust/ and every versions.json) after a revocation is refused at start as rollback, recorded, and nothing runs",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    const stolen = await t.keys.loadAgent("intake");
    const stolenId = await keyIdOf((await SigningKey.fromSeed(stolen.seed)).publicKey);
    let trust: Map<string, Uint8Array>;
    let stores: Map<string, Uint8Array>;
    {
      await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
      await waitUntilUp(running.supervisor, "sanitization");
      await waitUntilUp(running.supervisor, "intake");
      trust = await files(t.home.trust);
      stores = await versionStores(t);
      assert.ok(stores.size >= 3, `version stores: ${[...stores.keys()].join(", ")}`);

      const result = await revokeAgent({ home: t.root, agent: "intake", clock: systemClock });
      assert.equal(result.recordedBy, "supervisor");
      const events = await waitForEvent(
        t.home,
        (e) => e.type === "trust_versions" && e.detail?.cause === "reload",
        "the supervisor to record the trust state it applied",
      );
      const mark = events.findLast((e) => e.type === "trust_versions")!;
      assert.equal((mark.detail?.versions as Record<string, number>).directory, 2);
      assert.ok((mark.detail?.revoked_keyids as string[]).includes(stolenId));
    }

    await copyBack(t, trust, stores);
    const before = (await ledgerEvents(t.home)).length;
    const next = await injectSignedWith(t, {
      seed: stolen.seed,
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("after the copy-back"),
    });
    await assert.rejects(
      startTestSupervisor(t),
      (err: unknown) =>
        err instanceof SaoeError && err.code === "rollback" &&
        /^Refusing to start: Rollback of the agent key directory: .*directory\.json is version 1, but the audit ledger records version 2 in force/
          .test(err.message) &&
        /Fix: /.test(err.message),
    );
    const after = (await ledgerEvents(t.home)).slice(before);
    assert.deepEqual(after.map((e) => e.type), ["trust_refused"]);
    const refused = after[0]!;
    assert.equal(refused.agent, "supervisor");
    assert.equal(refused.reason, "rollback");
    assert.equal(refused.detail?.phase, "start");
    assert.equal(refused.detail?.kind, "directory");
    assert.equal(refused.detail?.version, 1);
    assert.equal(refused.detail?.recorded_version, 2);
    assert.match(String(refused.detail?.message), /agent key directory/);
    // nothing ran: the revoked key's envelope is still in the inbox, nothing was published
    await Deno.lstat(
      join(t.home.agents, "sanitization", "inbox", "intake", `${next.envelope_id}.satl`),
    );
    const all = await ledgerEvents(t.home);
    assert.ok(!all.some((e) => e.type === "published"));
    assert.ok(!all.some((e) => e.envelope_id === next.envelope_id));
    // and the refusal stands however often it is tried: the ledger's mark does not go down
    await assert.rejects(
      startTestSupervisor(t),
      (err: unknown) => err instanceof SaoeError && err.code === "rollback",
    );
  },
});

Deno.test({
  name:
    "a revocation done while the pipeline is stopped raises the ledger's mark too: the copy-back is refused at the next start",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    {
      await using running = await startTestSupervisor(t);
      await waitUntilUp(running.supervisor, "sanitization");
    }
    const trust = await files(t.home.trust);
    const stores = await versionStores(t);
    const stolen = await SigningKey.fromSeed((await t.keys.loadAgent("intake")).seed);

    const result = await revokeAgent({ home: t.root, agent: "intake", clock: systemClock });
    assert.equal(result.recordedBy, "ledger");
    const events = await ledgerEvents(t.home);
    const [rotated, mark] = events.slice(-2);
    assert.equal(rotated!.type, "key_rotated");
    assert.equal(mark!.type, "trust_versions");
    assert.equal(mark!.detail?.cause, "ceremony");
    assert.equal(mark!.detail?.recorded_by, "saoe keys");
    const versions = mark!.detail?.versions as Record<string, number>;
    assert.equal(versions.directory, 2);
    assert.equal(versions.root, 1);
    assert.ok(Object.keys(versions).some((k) => k.startsWith("capset:")));
    assert.ok((mark!.detail?.revoked_keyids as string[]).includes(await keyIdOf(stolen.publicKey)));

    await copyBack(t, trust, stores);
    await assert.rejects(
      startTestSupervisor(t),
      (err: unknown) =>
        err instanceof SaoeError && err.code === "rollback" &&
        /Rollback of the agent key directory/.test(err.message),
    );
    assert.equal((await ledgerEvents(t.home)).at(-1)?.type, "trust_refused");
  },
});

Deno.test({
  name:
    "while the pipeline runs, the same copy-back is refused on reload, and a restarted agent refuses the earlier state and then the revoked key",
  ...processTest,
  async fn() {
    await using t = await makeTestHome({ agents: ["sanitization", "intake"] });
    await using running = await startTestSupervisor(t, { watchDebounceMs: 100 });
    const { supervisor } = running;
    await waitUntilUp(supervisor, "sanitization");
    await waitUntilUp(supervisor, "intake");
    const trust = await files(t.home.trust);
    const stores = await versionStores(t);
    const stolen = await t.keys.loadAgent("intake");

    await revokeAgent({ home: t.root, agent: "intake", clock: systemClock });
    await waitForEvent(
      t.home,
      (e) => e.type === "key_rotated" && e.detail?.kind === "revoked",
      "the supervisor to apply the revocation",
    );
    const revokedTrust = await files(t.home.trust);
    const applied = (await ledgerEvents(t.home)).length;

    await copyBack(t, trust, stores);
    const events = await waitForEvent(
      t.home,
      (e) =>
        e.type === "trust_refused" && e.reason === "rollback" &&
        (e.detail?.kind === "directory" || e.detail?.kind === "revoked_key"),
      "the supervisor to refuse the copied-back trust state against the ledger's mark",
      30_000,
    );
    assert.deepEqual(supervisor.trustVersions(), { root: 1, directory: 2 });
    const since = events.slice(applied);
    assert.ok(!since.some((e) => e.type === "key_rotated"), "the copy-back was not applied");

    // an agent restarted now finds the earlier files and its earlier versions.json on disk
    const next = await injectSignedWith(t, {
      seed: stolen.seed,
      sender: "intake",
      receiver: "sanitization",
      template: "blog_article_intent",
      payload: articlePayload("signed with the revoked key"),
    });
    const pid = await waitUntilUp(supervisor, "sanitization");
    Deno.kill(pid, "SIGKILL");
    await waitFor(
      () =>
        running.logs.some((line) =>
          line.startsWith("[sanitization]") && /cannot start: .*\(rollback\)/.test(line)
        ),
      { what: "the restarted sanitization to refuse the earlier trust state", timeoutMs: 30_000 },
    );
    assert.ok(
      !(await ledgerEvents(t.home)).some((e) =>
        e.type === "validated" && e.envelope_id === next.envelope_id
      ),
      "the revoked key's envelope was never validated",
    );

    // the state the revocation left is back: the next restart runs, and refuses the key
    await putBack(t.home.trust, revokedTrust);
    const refused = await waitForEvent(
      t.home,
      (e) => e.type === "rejected" && e.agent === "sanitization" && e.detail?.sender === "intake",
      "the restarted sanitization to refuse the revoked key's envelope",
      60_000,
    );
    const rejection = refused.find((e) =>
      e.type === "rejected" && e.agent === "sanitization" && e.detail?.sender === "intake"
    )!;
    assert.ok(
      rejection.reason === "revoked_key" || rejection.reason === "unknown_sender",
      String(rejection.reason),
    );
    await Deno.lstat(`${t.home.agents}/sanitization/dead/${next.envelope_id}.satl`);
    const all = await ledgerEvents(t.home);
    assert.ok(!all.some((e) => e.type === "validated" && e.envelope_id === next.envelope_id));
    assert.ok(!all.some((e) => e.type === "published"));
  },
});
