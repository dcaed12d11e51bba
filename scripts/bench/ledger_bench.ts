/**
 * Ledger throughput (docs/design.md section 11, item 7: appends of at least
 * 5,000 events/s in batches, verification of at least 100,000 events/s), on a
 * real SQLite file in WAL mode with `synchronous=FULL`, realistic events and one
 * checkpoint.
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../core/primitives/crypto/ed25519.ts";
import { buildEvent, encodeEvent } from "../../core/domain/ledger/events.ts";
import { openLedger } from "../../core/domain/ledger/ledger.ts";
import { verifyLedger } from "../../core/domain/ledger/verify.ts";
import { systemClock } from "../../core/primitives/time/clock.ts";
import type { BenchContext, BenchModule, BenchResult } from "./types.ts";

const BATCH = 100;

function events(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    out.push(encodeEvent(buildEvent({
      type: "validated",
      agent: "text_formatter",
      session_id: crypto.randomUUID(),
      envelope_id: crypto.randomUUID(),
      detail: { sender: "planner", template: "blog_article_intent", n: i },
    })));
  }
  return out;
}

async function run(ctx: BenchContext): Promise<BenchResult[]> {
  const count = ctx.quick ? 10_000 : 100_000;
  const key = await SigningKey.fromSeed(generateSeed());
  const path = `${ctx.tempDir}/audit/ledger.db`;
  const anchorPath = `${ctx.tempDir}/audit/anchor/checkpoint.json`;
  const input = events(count);

  const ledger = await openLedger({ path, anchorPath, checkpointKey: key });
  const t0 = performance.now();
  for (let i = 0; i < count; i += BATCH) ledger.append(input.slice(i, i + BATCH));
  const appendMs = performance.now() - t0;
  await ledger.checkpoint();
  ledger.close();

  const t1 = performance.now();
  const result = await verifyLedger({
    path,
    anchorPath,
    checkpointKeys: { name: "bench checkpoint key", keys: [key], threshold: 1 },
    clock: systemClock,
  });
  const verifyMs = performance.now() - t1;
  if (!result.ok || result.checked !== count) throw new Error(result.message);

  const bytes = input.reduce((n, e) => n + e.byteLength, 0);
  return [
    {
      name: `ledger append (batches of ${BATCH})`,
      value: Math.round(count / (appendMs / 1000)),
      unit: "events/s",
      target: 5_000,
      higherIsBetter: true,
      detail: { events: count, batch: BATCH, avg_event_bytes: Math.round(bytes / count) },
    },
    {
      name: `verifyLedger (${count.toLocaleString("en-US")} events)`,
      value: Math.round(count / (verifyMs / 1000)),
      unit: "events/s",
      target: 100_000,
      higherIsBetter: true,
      detail: { events: count, ms: Math.round(verifyMs) },
    },
  ];
}

/** Ledger append and verification rates. */
export const ledgerBench: BenchModule = { name: "ledger", run };
