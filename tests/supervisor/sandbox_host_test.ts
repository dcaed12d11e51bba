/**
 * The sandbox fails closed (docs/design.md section 12): a missing sandbox tool,
 * or a bubblewrap that cannot build the namespaces, is `sandbox_unavailable`
 * with the command that fixes it, never a start with one layer. Real
 * processes: the probe runs the real tools, or stand-ins that fail as a kernel
 * without user namespaces makes bubblewrap fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SaoeError } from "../../core/primitives/errors.ts";
import {
  detectSandboxHost,
  SANDBOX_INSTALL,
  SANDBOX_TOOLS,
} from "../../core/services/supervisor/sandbox_host.ts";
import { probeSandbox, USERNS_FIX } from "../../core/services/supervisor/sandbox_probe.ts";

Deno.test("a missing bubblewrap is sandbox_unavailable naming the file and the install command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tools = { ...SANDBOX_TOOLS, bwrap: join(dir, "bwrap") };
    await assert.rejects(
      detectSandboxHost(tools),
      (err: unknown) =>
        err instanceof SaoeError && err.code === "sandbox_unavailable" &&
        err.message.includes(tools.bwrap) && err.message.includes(SANDBOX_INSTALL),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the probe runs a real empty sandbox on this machine", async () => {
  await probeSandbox(await detectSandboxHost());
});

Deno.test("a bubblewrap that cannot create namespaces is refused with the sysctl fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // what bwrap prints on a kernel that refuses unprivileged user namespaces
    const fake = join(dir, "bwrap");
    await Deno.writeTextFile(
      fake,
      "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n",
    );
    await Deno.chmod(fake, 0o755);
    const host = { ...await detectSandboxHost(), tools: { ...SANDBOX_TOOLS, bwrap: fake } };
    await assert.rejects(
      probeSandbox(host),
      (err: unknown) =>
        err instanceof SaoeError && err.code === "sandbox_unavailable" &&
        err.message.includes("No permissions to create new namespace") &&
        err.message.includes(USERNS_FIX),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
