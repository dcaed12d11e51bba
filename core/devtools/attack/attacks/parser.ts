/**
 * Attack 6: the strict parser. Envelopes that a lenient JSON parser would accept
 * with a twist: duplicate keys (in the DSSE wrapper, and inside the signed
 * payload at depth 1, 2 and 4, where "last one wins" would let a signer show one
 * value to a reviewer and another to the code), `NaN`, the payload in UTF-16,
 * the whole file in UTF-16, trailing garbage after the JSON, and a file one byte
 * over the receiver's size limit. The payloads are correctly signed (the
 * signature covers the odd bytes), so only the parser stands in the way:
 * `duplicate_key`, `parse_error`, `size_exceeded`.
 *
 * @module
 */
import { utf8 } from "../../../primitives/crypto/bytes.ts";
import { PAYLOAD_TYPES } from "../../../primitives/dsse/types.ts";
import { signStatement } from "../../../primitives/dsse/sign.ts";
import { formatTimestamp } from "../../../primitives/time/timestamp.ts";
import type { AttackContext } from "../context.ts";
import { drop } from "../craft.ts";
import { rejectedInOrder, runInOrder, type Try } from "../tries.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "parser";

interface Payload {
  id: string;
  text: string;
}

async function payloadText(ctx: AttackContext): Promise<Payload> {
  const id = crypto.randomUUID();
  const now = Date.now();
  const text = JSON.stringify({
    version: "1",
    envelope_id: id,
    session_id: crypto.randomUUID(),
    sender: "intake",
    receiver: "sanitization",
    issued_at: formatTimestamp(now),
    expires_at: formatTimestamp(now + 600_000),
    human_readable: "saoe attack parser",
    template: await ctx.templateRef("blog_article_intent"),
    payload: { title: "parser", markdown: "text", image_count: 0 },
  });
  return { id, text };
}

function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0) throw new RangeError(`Cannot craft: ${from} not found`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

function utf16le(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 + 2 * i] = c & 0xff;
    out[3 + 2 * i] = c >> 8;
  }
  return out;
}

async function sign(
  ctx: AttackContext,
  payload: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return await signStatement({
    payloadType: PAYLOAD_TYPES.envelope,
    payload,
    signers: [await ctx.signer("intake")],
  });
}

async function tries(ctx: AttackContext): Promise<Try[]> {
  const out: Try[] = [];
  const add = (tried: string, code: string, step: number, id: string, bytes: Uint8Array) =>
    out.push({
      act: () => drop(ctx, "sanitization", "intake", bytes),
      expect: rejectedInOrder({ tried, agent: "sanitization", code, envelopeId: id, step }),
    });

  const wrapper = await payloadText(ctx);
  const wrapped = new TextDecoder().decode(await sign(ctx, utf8(wrapper.text)));
  add(
    "a duplicate key in the DSSE wrapper (two payloadType)",
    "duplicate_key",
    2,
    wrapper.id,
    utf8(replaceOnce(wrapped, "{", `{"payloadType":"${PAYLOAD_TYPES.envelope}",`)),
  );
  const depth1 = await payloadText(ctx);
  add(
    "a signed payload with a duplicate key at depth 1 (two sender)",
    "duplicate_key",
    3,
    depth1.id,
    await sign(ctx, utf8(replaceOnce(depth1.text, "{", '{"sender":"planner",'))),
  );
  const depth2 = await payloadText(ctx);
  add(
    "a signed payload with a duplicate key at depth 2 (template.id twice)",
    "duplicate_key",
    3,
    depth2.id,
    await sign(
      ctx,
      utf8(replaceOnce(depth2.text, '"template":{', '"template":{"id":"text_format_plan",')),
    ),
  );
  const depth4 = await payloadText(ctx);
  add(
    "a signed payload with a duplicate key at depth 4 (payload.x.y.z twice)",
    "duplicate_key",
    3,
    depth4.id,
    await sign(
      ctx,
      utf8(replaceOnce(depth4.text, '"payload":{', '"payload":{"x":{"y":{"z":1,"z":2}},')),
    ),
  );
  const nan = await payloadText(ctx);
  add(
    "a signed payload with NaN for a number",
    "parse_error",
    3,
    nan.id,
    await sign(ctx, utf8(replaceOnce(nan.text, '"image_count":0', '"image_count":NaN'))),
  );
  const wide = await payloadText(ctx);
  add(
    "a signed payload encoded in UTF-16",
    "parse_error",
    3,
    wide.id,
    await sign(ctx, utf16le(wide.text)),
  );
  const wideFile = await payloadText(ctx);
  add(
    "the whole envelope file encoded in UTF-16",
    "parse_error",
    2,
    wideFile.id,
    utf16le(new TextDecoder().decode(await sign(ctx, utf8(wideFile.text)))),
  );
  const trailing = await payloadText(ctx);
  add(
    "trailing garbage after a valid signed envelope",
    "parse_error",
    2,
    trailing.id,
    utf8(`${new TextDecoder().decode(await sign(ctx, utf8(trailing.text)))}garbage`),
  );
  const big = await payloadText(ctx);
  const max = ctx.verified.capsets.get("sanitization")?.limits.max_envelope_bytes ??
    4 * 1024 * 1024;
  const signed = await sign(ctx, utf8(big.text));
  const padded = new Uint8Array(max + 1).fill(0x20);
  padded.set(signed);
  add(
    `a valid signed envelope padded to ${max + 1} bytes (the limit plus one)`,
    "size_exceeded",
    1,
    big.id,
    padded,
  );
  return out;
}

/** Attack 6. */
export const parser: Attack = {
  name: NAME,
  number: 6,
  summary:
    "sends signed envelopes with duplicate keys (depth 1, 2, 4 and in the wrapper), NaN, UTF-16, trailing garbage and one byte over the limit: the strict parser must refuse each",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    return await runInOrder(ctx, NAME, await tries(ctx));
  },
};
