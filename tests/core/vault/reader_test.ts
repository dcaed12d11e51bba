/**
 * The reader runs read-only, as an agent does: every test that opens the vault is
 * declared with read access and write access only to an unrelated folder. The
 * vault is therefore built, and tampered with, at module top level (this process
 * runs with -A) before any test runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { sha256Hex } from "../../../core/primitives/crypto/bytes.ts";
import { PAYLOAD_TYPES } from "../../../core/primitives/dsse/types.ts";
import { signStatement } from "../../../core/primitives/dsse/sign.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import { encryptTo, generateAgeIdentity } from "../../../core/domain/vault/age.ts";
import { publishCapset, publishTemplate } from "../../../core/domain/vault/publish.ts";
import { openVault, type VaultReader } from "../../../core/domain/vault/reader.ts";
import {
  capsetPath,
  templateCipherPath,
  templateDir,
  templateManifestPath,
} from "../../../core/domain/vault/layout.ts";
import { parseTemplate } from "../../../core/domain/vault/template_types.ts";
import { dispatcherSet, newKey, templateBytes } from "./_fixtures.ts";

const T0 = Date.parse("2026-11-26T12:00:00Z");
const DAY = 86_400_000;
const SKEW = 60_000;

// ---- fixture vault, built with full permissions before the read-only tests ----
const root = await Deno.makeTempDir({ prefix: "saoe_vault_" });
const vault = join(root, "vault");
const unrelated = join(root, "unrelated");
await Deno.mkdir(unrelated);
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

const dispatcher = await newKey();
const impostor = await newKey();
const agentA = await generateAgeIdentity();
const agentB = await generateAgeIdentity();

async function publish(id: string, version: number, recipients: string[], validForMs = DAY) {
  return await publishTemplate({
    vault,
    templateBytes: templateBytes(id, version),
    recipients,
    signers: [dispatcher],
    issuedAt: T0,
    validForMs,
  });
}

const articleBytes = templateBytes("article", 1);
await publishTemplate({
  vault,
  templateBytes: articleBytes,
  recipients: [agentA.recipient, agentB.recipient],
  signers: [dispatcher],
  issuedAt: T0,
  validForMs: DAY,
});
await publish("secret_note", 1, [agentB.recipient]);
await publish("short_lived", 1, [agentA.recipient], 60_000);

// the ciphertext swapped for another template validly encrypted to A: a different hash
const swapped = await publish("swapped", 1, [agentA.recipient]);
await Deno.writeFile(
  swapped.cipherPath,
  await encryptTo([agentA.recipient], templateBytes("swapped", 1, "A different description")),
);

// the manifest re-signed by a key that is not the dispatcher's
const forged = await publish("forged", 1, [agentA.recipient]);
await Deno.writeFile(
  forged.manifestPath,
  await signStatement({
    payloadType: PAYLOAD_TYPES.templateManifest,
    payload: { ...forged.manifest },
    signers: [impostor],
  }),
);

// version 2's files replaced by version 1's: a valid manifest for the wrong version
await publish("mixup", 1, [agentA.recipient]);
await publish("mixup", 2, [agentA.recipient]);
await Deno.copyFile(templateCipherPath(vault, "mixup", 1), templateCipherPath(vault, "mixup", 2));
await Deno.copyFile(
  templateManifestPath(vault, "mixup", 1),
  templateManifestPath(vault, "mixup", 2),
);

// manifest deleted
const half = await publish("half", 1, [agentA.recipient]);
await Deno.remove(half.manifestPath);

// a symlink planted for a template's ciphertext, a hard link, and a symlinked folder
await publish("planted", 1, [agentA.recipient]);
const realCipher = join(root, "real_cipher.age");
await Deno.rename(templateCipherPath(vault, "planted", 1), realCipher);
await Deno.symlink(realCipher, templateCipherPath(vault, "planted", 1));
const linked = await publish("linked", 1, [agentA.recipient]);
await Deno.link(linked.cipherPath, join(root, "second_name.age"));
await publish("dir_real", 1, [agentA.recipient]);
await Deno.symlink(templateDir(vault, "dir_real"), templateDir(vault, "dir_link"));

// capsets: planner's readable by A; a vault that is itself a symlink
const plannerCapset = await signStatement({
  payloadType: PAYLOAD_TYPES.capset,
  payload: { agent: "planner", version: 1 },
  signers: [dispatcher],
});
await publishCapset({
  vault,
  agent: "planner",
  signedCapsetBytes: plannerCapset,
  recipients: [agentA.recipient],
});
const vaultLink = join(root, "vault_link");
await Deno.symlink(vault, vaultLink);
const rootLink = join(root, "root_link");
await Deno.symlink(root, rootLink);
const vaultViaLink = join(rootLink, "vault");

// ---- helpers ----
const READ_ONLY: Deno.PermissionOptionsObject = { read: true, write: [unrelated] };

function open(
  identity = agentA.identity,
  clock = new FakeClock(T0),
  dir = vault,
): Promise<VaultReader> {
  return openVault({ dir, identity, dispatcher: dispatcherSet(dispatcher), clock, skewMs: SKEW });
}

function refusedWith(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isSaoeError(err), `expected a SaoeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

// ---- tests ----
Deno.test("openVault() refuses a vault this process may write (vault_writable)", async () => {
  // this test inherits -A: write access to the vault is granted
  await assert.rejects(open(), refusedWith("vault_writable"));
});

Deno.test({
  name: "openVault() opens a vault this process may only read",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    assert.ok(!Deno.inspect(reader).includes(agentA.identity));
    assert.ok(!JSON.stringify(reader).includes(agentA.identity));
  },
});

Deno.test({
  name: "openVault() refuses a vault path that is a symlink",
  permissions: READ_ONLY,
  fn: async () => {
    await assert.rejects(
      open(agentA.identity, new FakeClock(T0), vaultLink),
      refusedWith("unsafe_path"),
    );
  },
});

Deno.test({
  name: "openVault() refuses a vault reached through a symlinked parent folder",
  permissions: READ_ONLY,
  fn: async () => {
    await assert.rejects(
      open(agentA.identity, new FakeClock(T0), vaultViaLink),
      refusedWith("unsafe_path"),
    );
  },
});

Deno.test({
  name: "openVault() refuses a relative or unnormalised vault path",
  permissions: READ_ONLY,
  fn: async () => {
    for (const dir of ["vault", `${vault}/`, `${vault}/../vault`, `${root}//vault`]) {
      await assert.rejects(
        open(agentA.identity, new FakeClock(T0), dir),
        refusedWith("bad_config"),
      );
    }
  },
});

Deno.test({
  name: "an agent granted read on only its own entries opens the vault and resolves them",
  permissions: {
    read: [templateDir(vault, "article"), capsetPath(vault, "planner")],
    write: [unrelated],
  },
  fn: async () => {
    const reader = await open();
    assert.equal((await reader.resolve("article", 1, ["article"])).template.id, "article");
    assert.deepEqual(await reader.readCapset("planner"), plannerCapset);
    // an entry outside its grants is stopped by Deno's permissions
    await assert.rejects(reader.resolve("mixup", 1, ["mixup"]), refusedWith("vault_access"));
  },
});

Deno.test({
  name: "an agent granted read on its own entries refuses them behind a symlinked folder",
  permissions: {
    read: [templateDir(vaultViaLink, "article"), capsetPath(vaultViaLink, "planner")],
    write: [unrelated],
  },
  fn: async () => {
    const reader = await open(agentA.identity, new FakeClock(T0), vaultViaLink);
    await assert.rejects(reader.resolve("article", 1, ["article"]), refusedWith("unsafe_path"));
    await assert.rejects(reader.readCapset("planner"), refusedWith("unsafe_path"));
  },
});

Deno.test({
  name: "resolve() returns a template published for this agent, with its hash",
  permissions: READ_ONLY,
  fn: async () => {
    for (const agent of [agentA, agentB]) {
      const reader = await open(agent.identity);
      const resolved = await reader.resolve("article", 1, ["article"]);
      assert.deepEqual(resolved.template, parseTemplate(articleBytes));
      assert.equal(resolved.sha256, await sha256Hex(articleBytes));
      assert.ok(Object.isFrozen(resolved.template.policy));
    }
  },
});

Deno.test({
  name: "resolve() refuses an agent outside the recipients with vault_access even in scope",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open(agentA.identity);
    await assert.rejects(
      reader.resolve("secret_note", 1, ["secret_note"]),
      refusedWith("vault_access"),
    );
    const b = await open(agentB.identity);
    assert.equal((await b.resolve("secret_note", 1, ["secret_note"])).template.id, "secret_note");
  },
});

Deno.test({
  name: "resolve() refuses an id outside the scope before touching any file",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    // in scope, these fail on the disk (absent, planted symlink) ...
    await assert.rejects(reader.resolve("absent", 1, ["absent"]), refusedWith("vault_resolution"));
    await assert.rejects(reader.resolve("planted", 1, ["planted"]), refusedWith("unsafe_path"));
    // ... out of scope the same requests never reach the disk
    for (const id of ["absent", "planted", "article", "../etc"]) {
      await assert.rejects(reader.resolve(id, 1, ["other"]), (err) => {
        refusedWith("vault_access")(err);
        assert.match((err as Error).message, /not in this agent's vault scope/);
        return true;
      });
    }
  },
});

Deno.test({
  name: "resolve() refuses an out-of-scope id even when the vault cannot be read at all",
  permissions: { read: [vault], write: [unrelated] },
  fn: async () => {
    const reader = await open();
    await Deno.permissions.revoke({ name: "read", path: vault });
    await assert.rejects(reader.resolve("article", 1, ["other"]), (err) => {
      refusedWith("vault_access")(err);
      assert.match((err as Error).message, /not in this agent's vault scope/);
      return true;
    });
    // in scope, the same request does reach the disk and is stopped by Deno's permissions
    await assert.rejects(reader.resolve("article", 1, ["article"]), (err) => {
      refusedWith("vault_access")(err);
      assert.match((err as Error).message, /read access/);
      return true;
    });
  },
});

Deno.test({
  name: "resolve() refuses a template swapped for another one with template_hash_mismatch",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    await assert.rejects(
      reader.resolve("swapped", 1, ["swapped"]),
      refusedWith("template_hash_mismatch"),
    );
    // a refusal is never cached: it is refused again
    await assert.rejects(
      reader.resolve("swapped", 1, ["swapped"]),
      refusedWith("template_hash_mismatch"),
    );
  },
});

Deno.test({
  name: "resolve() refuses a manifest signed by a key outside the dispatcher set",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    await assert.rejects(
      reader.resolve("forged", 1, ["forged"]),
      refusedWith("dispatcher_signature"),
    );
  },
});

Deno.test({
  name: "resolve() refuses a valid manifest of another version with vault_resolution",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    assert.equal((await reader.resolve("mixup", 1, ["mixup"])).template.version, 1);
    await assert.rejects(reader.resolve("mixup", 2, ["mixup"]), refusedWith("vault_resolution"));
  },
});

Deno.test({
  name: "resolve() refuses a missing template or manifest with vault_resolution",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    await assert.rejects(reader.resolve("absent", 1, ["absent"]), refusedWith("vault_resolution"));
    await assert.rejects(
      reader.resolve("article", 9, ["article"]),
      refusedWith("vault_resolution"),
    );
    await assert.rejects(reader.resolve("half", 1, ["half"]), refusedWith("vault_resolution"));
  },
});

Deno.test({
  name: "resolve() refuses an expired manifest, also when the template is cached",
  permissions: READ_ONLY,
  fn: async () => {
    const late = new FakeClock(T0 + 60_000 + SKEW + 1);
    await assert.rejects(
      (await open(agentA.identity, late)).resolve("short_lived", 1, ["short_lived"]),
      refusedWith("expired"),
    );

    const clock = new FakeClock(T0);
    const reader = await open(agentA.identity, clock);
    const first = await reader.resolve("short_lived", 1, ["short_lived"]);
    // with the vault unreadable, a second resolve can only come from memory
    await Deno.permissions.revoke({ name: "read", path: vault });
    assert.equal(await reader.resolve("short_lived", 1, ["short_lived"]), first);
    clock.advance(60_000 + SKEW + 1);
    await assert.rejects(reader.resolve("short_lived", 1, ["short_lived"]), refusedWith("expired"));
  },
});

Deno.test({
  name: "resolve() refuses a symlink planted for a template, a hard link and a symlinked folder",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    await assert.rejects(reader.resolve("planted", 1, ["planted"]), refusedWith("unsafe_path"));
    await assert.rejects(reader.resolve("linked", 1, ["linked"]), refusedWith("unsafe_path"));
    await assert.rejects(reader.resolve("dir_link", 1, ["dir_link"]), refusedWith("unsafe_path"));
  },
});

Deno.test({
  name: "resolve() refuses an entry this process may write even when the vault folder is not",
  permissions: { read: true, write: [templateCipherPath(vault, "article", 1)] },
  fn: async () => {
    const reader = await open();
    await assert.rejects(reader.resolve("article", 1, ["article"]), refusedWith("vault_writable"));
  },
});

Deno.test({
  name: "resolve() refuses malformed versions with bad_identifier",
  permissions: READ_ONLY,
  fn: async () => {
    const reader = await open();
    for (const version of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        reader.resolve("article", version, ["article"]),
        refusedWith("bad_identifier"),
      );
    }
  },
});

Deno.test({
  name: "readCapset() returns the signed capset bytes to a recipient and refuses others",
  permissions: READ_ONLY,
  fn: async () => {
    assert.deepEqual(await (await open(agentA.identity)).readCapset("planner"), plannerCapset);
    const b = await open(agentB.identity);
    await assert.rejects(b.readCapset("planner"), refusedWith("vault_access"));
    await assert.rejects(b.readCapset("nobody"), refusedWith("vault_resolution"));
    await assert.rejects(b.readCapset("../planner"), refusedWith("bad_identifier"));
  },
});
