/**
 * Writes the hand-picked entries of the regression corpus (`tests/fuzz/corpus/`,
 * entries whose note has a `comment` and no `seed`): one input per attack class
 * the fuzzer aims at, built from the fixed-key seeds so they replay exactly.
 * Run from the repository root: `./scripts/deno run -A core/devtools/fuzz/make_corpus.ts`.
 * Entries the fuzzer saves (failing inputs) are never touched.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { utf8 } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES } from "../../primitives/dsse/types.ts";
import { corpusName } from "./corpus.ts";
import type { CorpusNote } from "./corpus_note.ts";
import type { FuzzTarget } from "./target.ts";
import { fixedTargets } from "./targets_fixed.ts";

const CORPUS = fileURLToPath(new URL("../../../tests/fuzz/corpus", import.meta.url));
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Wrapper {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

function wrapper(bytes: Uint8Array): Wrapper {
  return JSON.parse(dec.decode(bytes)) as Wrapper;
}

function payloadText(bytes: Uint8Array): string {
  return dec.decode(Uint8Array.fromBase64(wrapper(bytes).payload));
}

function keepSignatures(seed: Uint8Array, payload: string | Uint8Array): Uint8Array {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  return enc.encode(JSON.stringify({ ...wrapper(seed), payload: p.toBase64() }));
}

interface Entry {
  kind: string;
  input: Uint8Array;
  expect: CorpusNote["expect"];
  code?: string;
  mutation: string;
  comment: string;
}

async function entries(targets: Map<string, FuzzTarget>): Promise<Entry[]> {
  const seed = (kind: string) => targets.get(kind)!.seeds[0]!;
  const resign = (kind: string, text: string) =>
    targets.get(kind)!.resign(new Uint8Array(enc.encode(text)));
  const plan = payloadText(seed("plan"));
  const capset = payloadText(seed("capset"));
  const root = JSON.parse(payloadText(seed("root_v2"))) as { keys: unknown[] };
  const tools = JSON.parse(payloadText(seed("tool_manifest"))) as { tools: unknown[] };
  const event = JSON.parse(payloadText(seed("audit_event"))) as Record<string, unknown>;
  const manifest = payloadText(seed("template_manifest"));
  const dsse = wrapper(seed("dsse"));
  const sig0 = dsse.signatures[0]!;
  // an envelope refused before its signature is checked: any key will do
  const anyKey = await SigningKey.fromSeed(new Uint8Array(32).fill(1));
  const envelope = (payload: string) =>
    signStatement({
      payloadType: PAYLOAD_TYPES.envelope,
      payload: utf8(payload),
      signers: [anyKey],
    });
  const envelopeFields =
    `"version":"1","envelope_id":"0190f3a2-7b1c-4def-8a12-3456789abc00","session_id":"0190f3a2-7b1c-4def-8a12-3456789abc01","sender":"intake","receiver":"sanitization","issued_at":"2030-01-01T00:00:00Z","expires_at":"2030-01-01T00:10:00Z","human_readable":"","template":{"id":"blog_article_intent","version":1,"sha256":"${
      "0".repeat(64)
    }"}`;

  return [
    {
      kind: "plan",
      input: keepSignatures(
        seed("plan"),
        plan.replace('"issuer":"planner"', '"issuer":"planner","issuer":"deployment"'),
      ),
      expect: "refusal",
      code: "bad_signature",
      mutation: "payload_dup_key@1",
      comment:
        "a second issuer key smuggled into the signed plan bytes (two parsers, two readings)",
    },
    {
      kind: "plan",
      input: await resign(
        "plan",
        plan.replace(
          '"tool":"markdown_to_html"',
          '"tool":"markdown_to_html","tool":"image_sanitize"',
        ),
      ),
      expect: "refusal",
      code: "duplicate_key",
      mutation: "payload_dup_key@3_resigned",
      comment:
        "a duplicate key inside a call, validly signed by the planner: refused after the signature (duplicate_key)",
    },
    {
      kind: "capset",
      input: await resign(
        "capset",
        capset.replace('"limits":{', '"limits":{"__proto__":{"polluted":true},'),
      ),
      expect: "refusal",
      code: "parse_error",
      mutation: "payload_add_field@2_resigned",
      comment:
        "a __proto__ field in a dispatcher-signed capset is an unknown field, never a prototype",
    },
    {
      kind: "root_v2",
      input: await resign("root_v2", JSON.stringify({ ...root, threshold: 0 })),
      expect: "refusal",
      code: "bad_threshold",
      mutation: "payload_dictionary@1_resigned",
      comment: "a rotated root with threshold 0 (bad_threshold), signed by the old and new keys",
    },
    {
      kind: "root_v2",
      input: await resign(
        "root_v2",
        JSON.stringify({
          ...root,
          keys: [root.keys[0], { ...(root.keys[0] as object), keyid: "same-key-again" }],
        }),
      ),
      expect: "refusal",
      code: "bad_threshold",
      mutation: "payload_clone_entry@2_resigned",
      comment:
        "one public key listed twice under two keyids to meet a threshold of 2: counted once",
    },
    {
      kind: "directory",
      input: (() => {
        const text = dec.decode(seed("directory"));
        const out = new Uint8Array(2 + text.length * 2);
        out.set([0xff, 0xfe]);
        for (let i = 0; i < text.length; i++) out[2 + 2 * i] = text.charCodeAt(i);
        return out;
      })(),
      expect: "refusal",
      code: "parse_error",
      mutation: "utf16",
      comment: "the key directory re-encoded as UTF-16LE with a byte order mark",
    },
    {
      kind: "dsse",
      input: enc.encode(
        `\n{ "signatures" : [ { "sig":"${sig0.sig}", "keyid":"other" }, ${
          JSON.stringify(dsse.signatures[1])
        } ],\n  "payload":"${dsse.payload}", "payloadType":"${
          [...dsse.payloadType].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
            .join("")
        }" }\n`,
      ),
      expect: "accepted_equal",
      mutation: "wrapper_whitespace+wrapper_reorder+wrapper_escapes+signature_keyid_other",
      comment:
        "whitespace, key order, escapes and keyid hints outside the signed bytes change nothing",
    },
    {
      kind: "dsse",
      input: enc.encode(JSON.stringify({ ...dsse, signatures: [sig0, sig0] })),
      expect: "refusal",
      code: "bad_signature",
      mutation: "signature_duplicate",
      comment: "the same signature twice does not make 2 of 3: one key counts once",
    },
    {
      kind: "tool_manifest",
      input: await resign(
        "tool_manifest",
        JSON.stringify({ ...tools, tools: [tools.tools[0], tools.tools[0]] }),
      ),
      expect: "refusal",
      code: "parse_error",
      mutation: "payload_clone_entry@2_resigned",
      comment: "a tool listed twice in a dispatcher-signed manifest",
    },
    {
      kind: "audit_event",
      input: await resign("audit_event", JSON.stringify({ ...event, agent: "deployment" })),
      expect: "refusal",
      code: "sender_not_allowed",
      mutation: "payload_dictionary@1_resigned",
      comment: "a compromised planner reports an event in deployment's name (sender_not_allowed)",
    },
    {
      kind: "audit_event",
      input: await resign("audit_event", JSON.stringify({ ...event, type: "agent_started" })),
      expect: "refusal",
      code: "sender_not_allowed",
      mutation: "payload_dictionary@1_resigned",
      comment: "an agent forges a supervisor-only event type",
    },
    {
      kind: "template_manifest",
      input: await resign(
        "template_manifest",
        manifest.replace('"blog_article_intent"', '"blog\\ud800"'),
      ),
      expect: "refusal",
      code: "parse_error",
      mutation: "payload_unicode@1_resigned",
      comment: "a lone surrogate escape in a signed template id",
    },
    {
      kind: "envelope_sanitization",
      input: await envelope(
        `{${envelopeFields},"payload":${"[".repeat(50_000)}${"]".repeat(50_000)}}`,
      ),
      expect: "refusal",
      code: "parse_error",
      mutation: "payload_deep_nesting",
      comment:
        "50 000 nested arrays, parsed before the signature (step 3): refused by depth, no stack overflow",
    },
    {
      kind: "envelope_sanitization",
      input: await envelope(
        `{${envelopeFields},"payload":{"title":"t","markdown":"m","image_count":NaN}}`,
      ),
      expect: "refusal",
      code: "parse_error",
      mutation: "payload_huge_number",
      comment: "NaN in an envelope payload",
    },
    {
      kind: "envelope_sanitization",
      input: await envelope(`{${envelopeFields},"sender":"planner","payload":{}}`),
      expect: "refusal",
      code: "duplicate_key",
      mutation: "payload_dup_key@1",
      comment:
        "two senders in one envelope: the key chooser and the decoder must not read different ones",
    },
  ];
}

if (import.meta.main) {
  const targets = new Map((await fixedTargets()).map((t) => [t.kind, t]));
  for (const e of await entries(targets)) {
    const name = await corpusName(e.kind, e.input);
    const note: CorpusNote = {
      kind: e.kind,
      expect: e.expect,
      ...(e.code === undefined ? {} : { code: e.code }),
      mutation: e.mutation,
      comment: e.comment,
    };
    await Deno.writeFile(join(CORPUS, `${name}.bin`), e.input);
    await Deno.writeTextFile(join(CORPUS, `${name}.json`), JSON.stringify(note, null, 2) + "\n");
    console.log(`${name}: ${e.comment}`);
  }
}
