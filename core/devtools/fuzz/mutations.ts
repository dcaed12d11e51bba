/**
 * Mutations of signed statements. Each takes a valid DSSE document (the seed) and
 * returns hostile bytes: byte flips, truncation, splicing two documents, a JSON
 * key written twice at some depth, type swaps, the payload re-encoded with a
 * changed payload, fields removed or added, Unicode tricks (lone surrogates, NUL,
 * overlong UTF-8, UTF-16), huge numbers, deep nesting, wrapper whitespace and
 * escapes, non-canonical base64, signature tricks and oversize documents.
 *
 * A mutation either keeps the seed's signatures (`resign: false`: the verifier
 * must refuse it, or accept exactly the seed's payload) or changes the payload
 * and has the rightful key sign it again (`resign: true`: what a compromised
 * sender can do; the verifier may accept it but must never crash).
 *
 * @module
 */
import type { Prng } from "./prng.ts";
import {
  type Edit,
  type Json,
  type JsonNode,
  nodes,
  type PathStep,
  serialize,
} from "./json_tree.ts";
import { concatBytes } from "../../primitives/crypto/bytes.ts";

/** What a mutation may use. */
export interface MutationContext {
  /** The seed: a valid signed document of the target's kind. */
  seed: Uint8Array;
  /** Seeds of every kind (for splicing and cross-kind substitution). */
  others: readonly Uint8Array[];
  /** The target's size cap in bytes. */
  maxBytes: number;
  rng: Prng;
}

/** The result of one mutation. */
export interface Mutated {
  /** Mutation names applied, in order (e.g. `payload_dup_key@2`). */
  name: string;
  bytes: Uint8Array;
  /**
   * Set when the payload was changed and must be signed again by the rightful key
   * before the verifier sees it (the bytes are then the new payload, not a document).
   */
  resignPayload?: Uint8Array;
}

/** One mutation operator. */
export interface Mutation {
  name: string;
  apply(ctx: MutationContext): Mutated;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Wrapper {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

function wrapperOf(bytes: Uint8Array): Wrapper {
  return JSON.parse(dec.decode(bytes)) as Wrapper;
}

function payloadJson(w: Wrapper): Json {
  return JSON.parse(dec.decode(Uint8Array.fromBase64(w.payload))) as Json;
}

function withPayload(w: Wrapper, payload: Uint8Array): Uint8Array {
  return enc.encode(JSON.stringify({ ...w, payload: payload.toBase64() }));
}

// ---- values a node can be swapped for -------------------------------------------

const HUGE_NUMBERS = [
  "1e400",
  "-1e400",
  "1e308",
  "9007199254740993",
  "-9007199254740993",
  "123456789012345678901234567890",
  "-0",
  "0.5",
  "1.0",
  "1E2",
  "2.5e-400",
  "4294967297",
  "NaN",
  "Infinity",
  "-Infinity",
  "0x10",
  "01",
  "1.",
  "+1",
  ".5",
];

const UNICODE_STRINGS = [
  '"\\ud800"',
  '"a\\udc00b"',
  '"\\udbff\\udbff"',
  '"\\u0000"',
  '"planner\\u0000"',
  '"\\u202eplanner"',
  '"plan\\u200bner"',
  '"pl\u0430nner"', // Cyrillic a
  '"\\/"',
  '"\\uD83D\\uDE00"',
  '"\\u00"',
  '"\\x41"',
  '"\\"',
  '"\t"',
  '"\n"',
  `"${"A".repeat(70_000)}"`,
  '"../../etc/passwd"',
  '"/etc/passwd"',
  '"x\\n"',
  '"ＰＬＡＮＮＥＲ"',
];

const RAW_BYTES: readonly (readonly number[])[] = [
  [0x00],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong "/" in three bytes
  [0xc0, 0x80], // overlong NUL (modified UTF-8)
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xff],
  [0xfe, 0xff],
  [0xef, 0xbb, 0xbf], // BOM
  [0x80],
  [0xe2, 0x80, 0xae], // U+202E, valid
];

const FIELD_NAMES = [
  "x",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "payloadtype",
  "signature",
  "sig",
  "keyid",
  "version",
  "receiver",
  "sender",
  "expires_at",
  "",
  "a".repeat(300),
];

function typeSwaps(value: Json): string[] {
  const out = ["null", "true", "false", "0", "-1", '""', '"x"', "[]", "{}"];
  out.push(`[${JSON.stringify(value)}]`, `{"value":${JSON.stringify(value)}}`);
  if (typeof value === "number") out.push(JSON.stringify(String(value)));
  if (typeof value === "string" && value.length < 100) {
    const n = Number(value);
    if (Number.isFinite(n) && value !== "") out.push(String(n));
    out.push(JSON.stringify(value.toUpperCase()), JSON.stringify(value + " "));
  }
  return out.filter((raw) => raw !== JSON.stringify(value));
}

function nested(raw: string, depth: number, rng: Prng): string {
  const object = rng.chance(0.5);
  return object
    ? '{"a":'.repeat(depth) + raw + "}".repeat(depth)
    : "[".repeat(depth) + raw + "]".repeat(depth);
}

/** A modified but same-typed value: the smallest change a signature must catch. */
function tweak(value: Json, rng: Prng): string {
  if (typeof value === "string") {
    if (value.length === 0) return '"a"';
    const i = rng.int(value.length);
    const c = value.charCodeAt(i) ^ (1 << rng.int(5));
    return JSON.stringify(value.slice(0, i) + String.fromCharCode(c) + value.slice(i + 1));
  }
  if (typeof value === "number") return String(value + (rng.chance(0.5) ? 1 : -1));
  if (typeof value === "boolean") return String(!value);
  if (Array.isArray(value)) return JSON.stringify(value.slice(0, -1));
  if (value === null) return "0";
  const keys = Object.keys(value);
  return JSON.stringify(Object.fromEntries(Object.entries(value).slice(0, keys.length - 1)));
}

// ---- tree edits, for the wrapper or for the payload ------------------------------

function objectNodes(all: JsonNode[]): JsonNode[] {
  return all.filter((n) =>
    n.value !== null && typeof n.value === "object" && !Array.isArray(n.value) &&
    Object.keys(n.value).length > 0
  );
}

function pickAtDepth(candidates: JsonNode[], rng: Prng): JsonNode | undefined {
  if (candidates.length === 0) return undefined;
  // duplicate keys at depth 1, 2 and 4 of the document (the top object is depth 1)
  const wanted = rng.pick([1, 2, 4, 0]);
  const at = candidates.filter((n) => n.depth + 1 === wanted);
  return rng.pick(at.length > 0 ? at : candidates);
}

type TreeEdit = (tree: Json, rng: Prng, others: readonly Uint8Array[]) => {
  name: string;
  text: string;
};

const dupKey: TreeEdit = (tree, rng) => {
  const node = pickAtDepth(objectNodes(nodes(tree)), rng);
  if (node === undefined) return { name: "dup_key", text: serialize(tree) };
  const obj = node.value as Record<string, Json>;
  const key = rng.pick(Object.keys(obj));
  const original = JSON.stringify(obj[key]);
  const other = rng.chance(0.3) ? original : tweak(obj[key]!, rng);
  const [first, second] = rng.chance(0.5) ? [original, other] : [other, original];
  return {
    name: `dup_key@${node.depth + 1}`,
    text: serialize(tree, { kind: "duplicate", path: node.path, key, first, second }),
  };
};

function rawEdit(
  name: string,
  choose: (node: JsonNode, rng: Prng) => string,
  filter: (n: JsonNode) => boolean = () => true,
): TreeEdit {
  return (tree, rng) => {
    const candidates = nodes(tree).filter(filter);
    if (candidates.length === 0) return { name, text: serialize(tree) };
    const node = rng.pick(candidates);
    const edit: Edit = { kind: "raw", path: node.path, raw: choose(node, rng) };
    return { name: `${name}@${node.depth}`, text: serialize(tree, edit) };
  };
}

const isString = (n: JsonNode) => typeof n.value === "string";
const isScalar = (n: JsonNode) => n.value === null || typeof n.value !== "object";

/** Values a compromised signer would try in an identifier, version or time field. */
const DICTIONARY = [
  '"planner"',
  '"supervisor"',
  '"deployment"',
  '"intake"',
  '"../planner"',
  '"/etc/passwd"',
  '"blog_article_intent"',
  '"formatted_article"',
  '"0190F3A2-7B1C-4DEF-8A12-3456789ABCDE"',
  '"00000000-0000-0000-0000-000000000000"',
  '"2030-02-30T00:00:00Z"',
  '"2000-01-01T00:00:00Z"',
  '"2999-12-31T23:59:59.999Z"',
  '"2030-01-01T00:00:00+00:00"',
  '"2030-01-01T00:00:00.1234Z"',
  '"0000-01-01T00:00:00Z"',
  '"1"',
  '"2"',
  "0",
  "1",
  "2",
  "1000000000",
  "1000000001",
  "9007199254740991",
  "-1",
  '"' + "0".repeat(64) + '"',
  '"' + "A".repeat(44) + '"',
  '"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="',
];

function grown(value: Json, size: number): string {
  const items = Array.isArray(value) && value.length > 0 ? value : [value];
  return JSON.stringify(Array.from({ length: size }, (_, i) => items[i % items.length]));
}

const TREE_EDITS: Record<string, TreeEdit> = {
  dictionary: rawEdit("dictionary", (_n, rng) => rng.pick(DICTIONARY), isScalar),
  grow_array: rawEdit(
    "grow_array",
    (n, rng) => grown(n.value, rng.pick([2, 17, 33, 65, 257, 1025, 5000])),
    (n) => Array.isArray(n.value),
  ),
  clone_entry: rawEdit(
    "clone_entry",
    (n, rng) => {
      const items = n.value as Json[];
      const i = rng.int(items.length);
      return JSON.stringify([...items.slice(0, i + 1), items[i]!, ...items.slice(i + 1)]);
    },
    (n) => Array.isArray(n.value) && n.value.length > 0,
  ),
  dup_key: dupKey,
  type_swap: rawEdit("type_swap", (n, rng) => rng.pick(typeSwaps(n.value))),
  huge_number: rawEdit("huge_number", (_n, rng) => rng.pick(HUGE_NUMBERS), isScalar),
  unicode: rawEdit("unicode", (_n, rng) => rng.pick(UNICODE_STRINGS), isString),
  deep_nesting: rawEdit(
    "deep_nesting",
    (n, rng) => nested(JSON.stringify(n.value), rng.pick([31, 33, 65, 1000, 50_000]), rng),
  ),
  tweak: rawEdit("tweak", (n, rng) => tweak(n.value, rng)),
  remove_field: (tree, rng) => {
    const node = pickAtDepth(objectNodes(nodes(tree)), rng);
    if (node === undefined) return { name: "remove_field", text: serialize(tree) };
    const key = rng.pick(Object.keys(node.value as Record<string, Json>));
    return {
      name: `remove_field@${node.depth + 1}`,
      text: serialize(tree, { kind: "remove", path: node.path, key }),
    };
  },
  add_field: (tree, rng) => {
    const node = pickAtDepth(objectNodes(nodes(tree)), rng);
    if (node === undefined) return { name: "add_field", text: serialize(tree) };
    const edit: Edit = {
      kind: "add",
      path: node.path,
      key: rng.pick(FIELD_NAMES),
      raw: rng.pick(["1", "null", '"x"', "{}", '{"polluted":true}', "[]"]),
      first: rng.chance(0.5),
    };
    return { name: `add_field@${node.depth + 1}`, text: serialize(tree, edit) };
  },
};

// ---- whole-document encodings ----------------------------------------------------

function utf16(text: string, rng: Prng): Uint8Array {
  const le = rng.chance(0.5);
  const bom = rng.chance(0.5);
  const out = new Uint8Array(text.length * 2 + (bom ? 2 : 0));
  let at = 0;
  if (bom) {
    out.set(le ? [0xff, 0xfe] : [0xfe, 0xff], 0);
    at = 2;
  }
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[at++] = le ? unit & 0xff : unit >> 8;
    out[at++] = le ? unit >> 8 : unit & 0xff;
  }
  return out;
}

function spaced(text: string, rng: Prng): string {
  const ws = [" ", "\n", "\t", "\r\n", "  "];
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c;
    if (c === '"' && text[i - 1] !== "\\") inString = !inString;
    if (!inString && ",:{}[".includes(c) && rng.chance(0.4)) out += rng.pick(ws);
  }
  return (rng.chance(0.3) ? rng.pick(ws) : "") + out + (rng.chance(0.3) ? rng.pick(ws) : "");
}

function escapeAll(value: string, rng: Prng): string {
  let out = '"';
  for (const c of value) {
    const code = c.charCodeAt(0);
    const hex = code.toString(16).padStart(4, "0");
    out += rng.chance(0.5) && code < 0x80
      ? `\\u${rng.chance(0.5) ? hex.toUpperCase() : hex}`
      : JSON.stringify(c).slice(1, -1);
  }
  return out + '"';
}

function base64Variant(b64: string, rng: Prng): { name: string; value: string } {
  const variants: [string, () => string][] = [
    ["unpadded", () => b64.replace(/=+$/, "")],
    ["extra_pad", () => b64 + "="],
    ["url_alphabet", () => b64.replaceAll("+", "-").replaceAll("/", "_")],
    ["newline", () => b64.slice(0, 4) + "\n" + b64.slice(4)],
    ["space", () => " " + b64],
    ["pad_bits", () => {
      const m = /([A-Za-z0-9+/])(=+)$/.exec(b64);
      if (m === null) return b64.slice(0, -1) + "B";
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      const i = alphabet.indexOf(m[1]!);
      return b64.slice(0, m.index) + alphabet[(i + 1) % 64] + m[2];
    }],
    ["case_swap", () => {
      const i = rng.int(Math.max(1, b64.length));
      const c = b64[i] ?? "A";
      const swapped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
      return b64.slice(0, i) + swapped + b64.slice(i + 1);
    }],
    ["empty", () => ""],
  ];
  const [name, make] = rng.pick(variants);
  return { name, value: make() };
}

// ---- the operators ----------------------------------------------------------------

function treeMutation(name: string, edit: TreeEdit, level: "wrapper" | "payload"): Mutation[] {
  if (level === "wrapper") {
    return [{
      name: `wrapper_${name}`,
      apply: ({ seed, rng, others }) => {
        const r = edit(JSON.parse(dec.decode(seed)) as Json, rng, others);
        return { name: `wrapper_${r.name}`, bytes: enc.encode(r.text) };
      },
    }];
  }
  // the same edit inside the payload, kept under the old signatures and re-signed
  return [false, true].map((resign) => ({
    name: `payload_${name}${resign ? "_resigned" : ""}`,
    apply: ({ seed, rng, others }) => {
      const w = wrapperOf(seed);
      const r = edit(payloadJson(w), rng, others);
      const payload = enc.encode(r.text);
      return resign
        ? { name: `payload_${r.name}_resigned`, bytes: payload, resignPayload: payload }
        : { name: `payload_${r.name}`, bytes: withPayload(w, payload) };
    },
  }));
}

const BYTE_MUTATIONS: Mutation[] = [
  {
    name: "byte_flip",
    apply: ({ seed, rng }) => {
      const out = seed.slice();
      const n = 1 + rng.int(4);
      for (let k = 0; k < n && out.byteLength > 0; k++) {
        const i = rng.int(out.byteLength);
        out[i] = rng.chance(0.5) ? out[i]! ^ (1 << rng.int(8)) : rng.int(256);
      }
      return { name: "byte_flip", bytes: out };
    },
  },
  {
    name: "truncate",
    apply: ({ seed, rng }) => ({
      name: "truncate",
      bytes: seed.slice(0, rng.int(seed.byteLength)),
    }),
  },
  {
    name: "splice",
    apply: ({ seed, rng, others }) => {
      const other = rng.pick(others);
      const a = seed.slice(0, rng.int(seed.byteLength + 1));
      const b = other.slice(rng.int(other.byteLength + 1));
      return { name: "splice", bytes: concatBytes(a, b) };
    },
  },
  {
    name: "insert_bytes",
    apply: ({ seed, rng }) => {
      const i = rng.int(seed.byteLength + 1);
      const raw = rng.chance(0.7)
        ? Uint8Array.from(rng.pick(RAW_BYTES))
        : Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      return { name: "insert_bytes", bytes: concatBytes(seed.slice(0, i), raw, seed.slice(i)) };
    },
  },
  {
    name: "raw_bytes_in_string",
    apply: ({ seed, rng }) => {
      const quotes: number[] = [];
      seed.forEach((b, i) => b === 0x22 && quotes.push(i));
      const at = quotes.length > 0 ? rng.pick(quotes) + 1 : 0;
      const raw = Uint8Array.from(rng.pick(RAW_BYTES));
      return {
        name: "raw_bytes_in_string",
        bytes: concatBytes(seed.slice(0, at), raw, seed.slice(at)),
      };
    },
  },
  {
    name: "delete_range",
    apply: ({ seed, rng }) => {
      const i = rng.int(seed.byteLength);
      const j = Math.min(seed.byteLength, i + 1 + rng.int(16));
      return { name: "delete_range", bytes: concatBytes(seed.slice(0, i), seed.slice(j)) };
    },
  },
  {
    name: "duplicate_range",
    apply: ({ seed, rng }) => {
      const i = rng.int(seed.byteLength);
      const j = Math.min(seed.byteLength, i + 1 + rng.int(64));
      return {
        name: "duplicate_range",
        bytes: concatBytes(seed.slice(0, j), seed.slice(i, j), seed.slice(j)),
      };
    },
  },
];

const DOCUMENT_MUTATIONS: Mutation[] = [
  {
    name: "utf16",
    apply: ({ seed, rng }) => ({ name: "utf16", bytes: utf16(dec.decode(seed), rng) }),
  },
  {
    name: "bom",
    apply: ({ seed }) => ({
      name: "bom",
      bytes: concatBytes(Uint8Array.of(0xef, 0xbb, 0xbf), seed),
    }),
  },
  {
    name: "trailing_garbage",
    apply: ({ seed, rng }) => ({
      name: "trailing_garbage",
      bytes: concatBytes(seed, enc.encode(rng.pick(["x", "{}", "\u0000", ",", "]", " 1", "\n{"]))),
    }),
  },
  {
    name: "wrapper_whitespace",
    apply: ({ seed, rng }) => ({
      name: "wrapper_whitespace",
      bytes: enc.encode(spaced(dec.decode(seed), rng)),
    }),
  },
  {
    name: "wrapper_reorder",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const entries = Object.entries(w);
      for (let i = entries.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      }
      return {
        name: "wrapper_reorder",
        bytes: enc.encode(JSON.stringify(Object.fromEntries(entries))),
      };
    },
  },
  {
    name: "wrapper_escapes",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const field = rng.pick(["payloadType", "payload", "keyid"] as const);
      const path: PathStep[] = field === "keyid" ? ["signatures", 0, "keyid"] : [field];
      const value = field === "keyid" ? w.signatures[0]?.keyid ?? "" : w[field];
      const text = serialize(w as unknown as Json, {
        kind: "raw",
        path,
        raw: escapeAll(value, rng),
      });
      return { name: `wrapper_escapes(${field})`, bytes: enc.encode(text) };
    },
  },
  {
    name: "base64_variant",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const onSig = rng.chance(0.4) && w.signatures.length > 0;
      const v = base64Variant(onSig ? w.signatures[0]!.sig : w.payload, rng);
      const out = onSig
        ? { ...w, signatures: [{ ...w.signatures[0]!, sig: v.value }, ...w.signatures.slice(1)] }
        : { ...w, payload: v.value };
      return {
        name: `base64_${onSig ? "sig" : "payload"}_${v.name}`,
        bytes: enc.encode(JSON.stringify(out)),
      };
    },
  },
  {
    name: "signature_tricks",
    apply: ({ seed, rng, others }) => {
      const w = wrapperOf(seed);
      const sig0 = w.signatures[0] ?? { keyid: "k", sig: "" };
      const foreign = wrapperOf(rng.pick(others)).signatures[0] ?? sig0;
      const tricks: [string, () => Wrapper["signatures"]][] = [
        ["duplicate", () => [sig0, ...w.signatures]],
        ["none", () => []],
        ["seventeen", () => Array.from({ length: 17 }, () => sig0)],
        ["foreign", () => [foreign]],
        ["foreign_first", () => [foreign, ...w.signatures]],
        ["zero", () => [{ keyid: sig0.keyid, sig: new Uint8Array(64).toBase64() }]],
        ["short", () => [{ keyid: sig0.keyid, sig: new Uint8Array(63).toBase64() }]],
        ["long", () => [{ keyid: sig0.keyid, sig: new Uint8Array(96).toBase64() }]],
        ["keyid_other", () => w.signatures.map((s) => ({ ...s, keyid: foreign.keyid }))],
        ["keyid_empty", () => w.signatures.map((s) => ({ ...s, keyid: "" }))],
        ["drop_first", () => w.signatures.slice(1)],
      ];
      const [name, make] = rng.pick(tricks);
      return {
        name: `signature_${name}`,
        bytes: enc.encode(JSON.stringify({ ...w, signatures: make() })),
      };
    },
  },
  {
    name: "payload_type_swap",
    apply: ({ seed, rng, others }) => {
      const w = wrapperOf(seed);
      const foreign = wrapperOf(rng.pick(others)).payloadType;
      const type = rng.pick([
        foreign,
        w.payloadType.toUpperCase(),
        w.payloadType + " ",
        w.payloadType.replace("v1", "v2"),
        "",
        w.payloadType + "\u0000",
      ]);
      return {
        name: "payload_type_swap",
        bytes: enc.encode(JSON.stringify({ ...w, payloadType: type })),
      };
    },
  },
  {
    name: "other_kind",
    apply: ({ rng, others }) => ({ name: "other_kind", bytes: rng.pick(others).slice() }),
  },
  {
    name: "oversize",
    apply: ({ seed, rng, maxBytes }) => {
      // exactly the cap (may be accepted: only whitespace was added) or one byte over
      const target = maxBytes + (rng.chance(0.5) ? 1 : 0);
      if (target <= seed.byteLength || target > 8 * 1024 * 1024) {
        return { name: "oversize", bytes: concatBytes(seed, enc.encode(" ")) };
      }
      const out = new Uint8Array(target).fill(0x20);
      out.set(seed, 0);
      return { name: `oversize(${target - maxBytes})`, bytes: out };
    },
  },
  {
    name: "payload_utf16",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const text = dec.decode(Uint8Array.fromBase64(w.payload));
      return { name: "payload_utf16", bytes: withPayload(w, utf16(text, rng)) };
    },
  },
  {
    name: "payload_whitespace",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const text = spaced(dec.decode(Uint8Array.fromBase64(w.payload)), rng);
      return { name: "payload_whitespace", bytes: withPayload(w, enc.encode(text)) };
    },
  },
  {
    name: "payload_byte_flip",
    apply: ({ seed, rng }) => {
      const w = wrapperOf(seed);
      const p = Uint8Array.fromBase64(w.payload);
      if (p.byteLength > 0) {
        const i = rng.int(p.byteLength);
        p[i] = rng.chance(0.5) ? p[i]! ^ (1 << rng.int(8)) : rng.pick(RAW_BYTES)[0]!;
      }
      return { name: "payload_byte_flip", bytes: withPayload(w, p) };
    },
  },
];

/** Every mutation operator, in a fixed order (a run's choices index into it). */
export const MUTATIONS: readonly Mutation[] = [
  ...BYTE_MUTATIONS,
  ...DOCUMENT_MUTATIONS,
  ...Object.entries(TREE_EDITS).flatMap(([name, edit]) => [
    ...treeMutation(name, edit, "wrapper"),
    ...treeMutation(name, edit, "payload"),
  ]),
];

/**
 * Applies one mutation, and now and then a second on top of a first that kept
 * the document form. Deterministic in `ctx.rng`.
 */
export function mutate(ctx: MutationContext): Mutated {
  const first = ctx.rng.pick(MUTATIONS).apply(ctx);
  if (first.resignPayload !== undefined || !ctx.rng.chance(0.2)) return first;
  const second = ctx.rng.pick(MUTATIONS);
  try {
    const again = second.apply({ ...ctx, seed: first.bytes });
    if (again.resignPayload !== undefined) return first;
    return { name: `${first.name}+${again.name}`, bytes: again.bytes };
  } catch {
    // the first mutation left no JSON to work on: keep it alone
    return first;
  }
}
