/**
 * Judging attempts by the audit ledger (`core/devtools/attack/expect.ts`), on a real
 * ledger database: the matching refusal is BLOCKED; a `validated` for the
 * attacker's envelope, a refusal for another reason, or no refusal at all is a
 * BREACH.
 */
import assert from "node:assert/strict";
import { homeLayout, ledgerPath } from "../../core/domain/home/layout.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { buildEvent, encodeEvent, type EventFields } from "../../core/domain/ledger/events.ts";
import { LedgerProbe } from "../../core/devtools/attack/ledger_probe.ts";
import { awaitVerdicts, rejectedEnvelope } from "../../core/devtools/attack/expect.ts";

async function withLedger(
  events: EventFields[],
  body: (probe: LedgerProbe) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir();
  const home = homeLayout(root);
  const ledger = await openLedger({ path: ledgerPath(home) });
  const probe = new LedgerProbe(home);
  try {
    ledger.append(events.map((e) => encodeEvent(buildEvent(e))));
    await body(probe);
  } finally {
    probe.close();
    ledger.close();
    await Deno.remove(root, { recursive: true });
  }
}

const id = "0190f3a2-7b1c-4def-8a12-3456789abcde";
const expectation = rejectedEnvelope({
  tried: "a tampered envelope",
  agent: "sanitization",
  envelopeId: id,
  code: "bad_signature",
  step: 4,
});

Deno.test("awaitVerdicts() calls an attempt BLOCKED when the ledger holds the matching refusal", async () => {
  await withLedger([
    { type: "rejected", agent: "sanitization", envelope_id: id, reason: "bad_signature" },
  ], async (probe) => {
    const [line] = await awaitVerdicts([expectation], { probe, since: 0, timeoutMs: 1000 });
    assert.equal(line!.verdict, "BLOCKED");
    assert.equal(line!.code, "bad_signature");
    assert.equal(line!.where, "sanitization, validation step 4");
  });
});

Deno.test("awaitVerdicts() calls an attempt a BREACH when the envelope was validated", async () => {
  await withLedger([
    { type: "validated", agent: "sanitization", envelope_id: id },
  ], async (probe) => {
    const [line] = await awaitVerdicts([expectation], { probe, since: 0, timeoutMs: 1000 });
    assert.equal(line!.verdict, "BREACH");
    assert.match(line!.where, /recorded validated \(ledger record 1\)/);
  });
});

Deno.test("awaitVerdicts() calls a refusal for another reason a BREACH", async () => {
  await withLedger([
    { type: "rejected", agent: "sanitization", envelope_id: id, reason: "schema" },
  ], async (probe) => {
    const [line] = await awaitVerdicts([expectation], { probe, since: 0, timeoutMs: 1000 });
    assert.equal(line!.verdict, "BREACH");
    assert.match(line!.where, /expected check did not fire.*schema/);
  });
});

Deno.test("awaitVerdicts() calls an attempt with no refusal event a BREACH after the timeout", async () => {
  await withLedger([
    { type: "rejected", agent: "planner", envelope_id: id, reason: "bad_signature" },
  ], async (probe) => {
    const started = Date.now();
    const [line] = await awaitVerdicts([expectation], { probe, since: 0, timeoutMs: 200 });
    assert.equal(line!.verdict, "BREACH");
    assert.match(line!.where, /no refusal event in the audit ledger/);
    assert.ok(Date.now() - started >= 200);
  });
});

Deno.test("awaitVerdicts() ignores events before the mark", async () => {
  await withLedger([
    { type: "rejected", agent: "sanitization", envelope_id: id, reason: "bad_signature" },
  ], async (probe) => {
    const [line] = await awaitVerdicts([expectation], {
      probe,
      since: await probe.mark(),
      timeoutMs: 100,
    });
    assert.equal(line!.verdict, "BREACH");
  });
});
