/**
 * An agent's stderr reaches the operator's terminal through the supervisor's
 * log: a compromised agent that writes escape sequences (set the window title,
 * write the clipboard with OSC 52, clear the screen with the one-byte CSI)
 * must show up as visible text, never as control characters. A real process
 * writes the bytes; the real `AgentProcess` forwards them.
 */
import assert from "node:assert/strict";
import { AgentProcess } from "../../core/services/supervisor/agent_process.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import { waitFor } from "./_harness.ts";

const HOSTILE = "title\x1b]0;pwned\x07 clip\x1b]52;c;aGk=\x07 csi\x9b2J bidi\u202eevil";

Deno.test("an agent's stderr is forwarded inert: no escape, C1 or bidi character reaches the log", async () => {
  const logs: string[] = [];
  const script = `await Deno.stderr.write(new TextEncoder().encode(${
    JSON.stringify(`${HOSTILE}\n`)
  })); await new Promise((r) => setTimeout(r, 60_000));`;
  const agent = new AgentProcess({
    name: "hostile",
    command: {
      program: Deno.execPath(),
      programArgs: ["eval", script],
      deno: Deno.execPath(),
      args: ["eval", script],
      sandbox: {
        binds: [],
        network: "none",
        limits: { memory_mib: 512, open_files: 256, processes: 64, file_size_mib: 1 },
      },
      flags: [],
      grants: [],
      entry: "(eval)",
    },
    flagsSha256: "0".repeat(64),
    cwd: Deno.cwd(),
    handover: () => Promise.resolve(new TextEncoder().encode("{}\n")),
    checkLine: () => Promise.reject(new Error("no report lines expected")),
    onEvent: () => {},
    onSupervisorEvent: () => {},
    onChange: () => {},
    log: (line) => logs.push(line),
    clock: systemClock,
  });
  agent.start();
  try {
    const line = await waitFor(() => logs.find((l) => l.startsWith("[hostile] title")), {
      what: "the agent's stderr line",
      timeoutMs: 20_000,
    });
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u202e]/);
    assert.equal(
      line,
      "[hostile] title\\u001b]0;pwned\\u0007 clip\\u001b]52;c;aGk=\\u0007 csi\\u009b2J bidi\\u202eevil",
    );
  } finally {
    await agent.stop(2_000);
  }
});
