/**
 * A ledger writer for the crash test: appends batches in a loop, checkpoints every
 * fifth batch and prints `committed <seq>` after each batch commits, until killed.
 *
 * Usage: deno run --allow-read --allow-write _crash_writer.ts DB SEED_HEX BATCH
 *
 * @module
 */
import { SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import { openLedger } from "../../../core/domain/ledger/ledger.ts";
import { eventBytes, ORIGIN } from "./_fixtures.ts";

const [path, seedHex, batchText] = Deno.args;
if (path === undefined || seedHex === undefined) {
  throw new TypeError("usage: _crash_writer.ts DB SEED_HEX BATCH");
}
const batch = Number(batchText ?? "500");
const key = await SigningKey.fromSeed(Uint8Array.fromHex(seedHex));
const ledger = await openLedger({ path, checkpointKey: key, origin: ORIGIN });
const out = Deno.stdout;
const encoder = new TextEncoder();
for (let round = 1;; round++) {
  const start = ledger.head().size;
  const seqs = ledger.append(Array.from({ length: batch }, (_, i) => eventBytes(start + i + 1)));
  if (round % 5 === 0) await ledger.checkpoint();
  await out.write(encoder.encode(`committed ${seqs[seqs.length - 1]}\n`));
}
