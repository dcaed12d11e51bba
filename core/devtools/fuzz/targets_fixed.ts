/**
 * Fuzz targets with fixed keys and a fixed clock: execution plans, capability
 * sets, trust roots (a pinned v1 and a rotated v2), the agent key directory,
 * template manifests, tool manifests, audit event report
 * lines and a raw 2-of-3 DSSE statement. Every key is derived from a constant
 * name and every time from one fixed instant, so the same seed bytes come out of
 * every run and a saved corpus file replays exactly.
 *
 * Each target calls the real verifier of its kind: `verifyPlan`, `verifyCapset`,
 * `verifyRootChain`, `verifyDirectory`, `verifyStatement` with the vault's
 * manifest decoder, `verifyToolManifest`, `checkReportLine`
 * and `verifyStatement`.
 *
 * @module
 */
import { sha256, sha256Hex, utf8 } from "../../primitives/crypto/bytes.ts";
import { SigningKey } from "../../primitives/crypto/ed25519.ts";
import { signStatement } from "../../primitives/dsse/sign.ts";
import { PAYLOAD_TYPES, type TrustedKeySet } from "../../primitives/dsse/types.ts";
import { verifyStatement } from "../../primitives/dsse/verify.ts";
import { int, obj, str } from "../../primitives/json/decode.ts";
import { signCapset } from "../../domain/capset/sign.ts";
import { MAX_CAPSET_BYTES, verifyCapset } from "../../domain/capset/verify.ts";
import { MAX_PLAN_BYTES, signPlan, verifyPlan } from "../../domain/toolgate/plan.ts";
import {
  MAX_TOOL_MANIFEST_BYTES,
  signToolManifest,
  verifyToolManifest,
} from "../../domain/toolgate/manifest.ts";
import { ROOT_MAX_BYTES, rootKeyOf, signRoot } from "../../domain/trust/root.ts";
import { type VerifiedRoot, verifyRootChain } from "../../domain/trust/chain.ts";
import { buildDirectory, signDirectory, verifyDirectory } from "../../domain/trust/directory.ts";
import { TRUST_FILE_MAX_BYTES } from "../../domain/trust/files.ts";
import { MemoryVersionStore } from "../../domain/trust/version_store_memory.ts";
import { decodeTemplateManifest } from "../../domain/vault/template_types.ts";
import { MAX_MANIFEST_BYTES } from "../../domain/vault/limits.ts";
import { buildEvent, encodeEvent } from "../../domain/ledger/events.ts";
import { checkReportLine, MAX_REPORT_LINE_BYTES } from "../../services/supervisor/report_line.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { formatTimestamp, timestamp } from "../../primitives/time/timestamp.ts";
import type { FuzzTarget } from "./target.ts";
import { DAY_MS } from "../../primitives/time/durations.ts";

/** The fixed instant every fixed statement is issued at. */
export const FIXED_T0 = Date.parse("2030-01-01T00:00:00Z");
const SKEW_MS = 120_000;
/** The verifiers' clock: one minute after issue. */
const clock = new FakeClock(FIXED_T0 + 60_000);

const SESSION = "0190f3a2-7b1c-4def-8a12-3456789abcde";
const ENVELOPE = "0190f3a2-7b1c-4def-9a12-3456789abcd0";
const PLAN_ID = "0190f3a2-7b1c-4def-aa12-3456789abcd1";
/** A real age recipient, fixed (the directory only lists it). */
const AGE_RECIPIENT = "age1g3ers2t8xsefrytvx02qtru0yzazaavjjva03zeyt7gtwql6qvzs85fwes";

async function fixedKey(name: string): Promise<SigningKey> {
  return await SigningKey.fromSeed(await sha256(utf8(`saoe-fuzz-key/${name}`)));
}

function keySet(name: string, keys: readonly SigningKey[], threshold = 1): TrustedKeySet {
  return { name, keys, threshold };
}

function statement(payloadType: string, signers: readonly SigningKey[]) {
  return (payload: Uint8Array<ArrayBuffer>) => signStatement({ payloadType, payload, signers });
}

/** The fixed-key targets, seeds signed and checked once. */
export async function fixedTargets(): Promise<FuzzTarget[]> {
  const [rootA, rootB, rootC, planner, intake] = await Promise.all(
    ["root-a", "root-b", "root-c", "planner", "intake"].map(fixedKey),
  );
  const dispatcher = keySet("dispatcher", [rootA!]);
  const validity = {
    issued_at: formatTimestamp(FIXED_T0),
    expires_at: formatTimestamp(FIXED_T0 + 365 * DAY_MS),
  };

  // ---- execution plans
  const plans = [
    await signPlan({
      plan: {
        plan_id: PLAN_ID,
        session_id: SESSION,
        envelope_id: ENVELOPE,
        issuer: "planner",
        calls: [
          { id: "c1", tool: "markdown_to_html", args: { markdown: "# Hi\n\n*there*" } },
          {
            id: "c2",
            tool: "image_sanitize",
            args: { max_side: 2048, formats: ["jpeg", "png"], nested: { a: [1, { b: "c" }] } },
          },
        ],
      },
      signers: [planner!],
      issuedAt: FIXED_T0,
      validForMs: 600_000,
    }),
  ];

  // ---- capability sets
  const capsets = [
    await signCapset({
      source: {
        agent: "text_formatter",
        version: 3,
        receives: [{ from: "planner", templates: ["text_format_plan"] }],
        sends: [{ to: "deployment", templates: ["formatted_article"] }],
        tools: [{
          name: "markdown_to_html",
          allowed_args: { markdown: { max_length: 200_000 }, mode: { enum: ["safe"] } },
        }],
        vault: ["text_format_plan", "formatted_article"],
        fs: { read: [], write: [] },
        net: [],
        limits: {
          max_envelope_bytes: 4 * 1024 * 1024,
          quota_per_minute: 600,
          max_inbox_depth: 1000,
          max_quarantine: 100,
        },
      },
      signers: [rootA!],
      issuedAt: FIXED_T0,
      validForMs: 90 * DAY_MS,
    }),
  ];

  // ---- trust roots: v1 pinned (self-signed by A), v2 rotated to B+C (2 of 2)
  const v1 = await signRoot({
    payload: { version: 1, ...validity, threshold: 1, keys: [rootKeyOf(rootA!)] },
    signers: [rootA!],
  });
  const v2 = await signRoot({
    payload: {
      version: 2,
      ...validity,
      threshold: 2,
      keys: [rootKeyOf(rootB!), rootKeyOf(rootC!)],
    },
    signers: [rootA!, rootB!, rootC!],
  });
  const pinV1 = await sha256Hex(v1);
  const chain = (roots: Uint8Array[], pin: string) =>
    verifyRootChain({ roots, pin, clock, skewMs: SKEW_MS, versionStore: new MemoryVersionStore() });
  const rootV1: VerifiedRoot = await chain([v1], pinV1);

  // ---- agent key directory, signed by root v1's dispatcher key
  const directoryPayload = await buildDirectory({
    version: 4,
    issuedAtMs: FIXED_T0,
    expiresAtMs: FIXED_T0 + 30 * DAY_MS,
    agents: {
      planner: [{
        publicKey: planner!.publicKey,
        ageRecipient: AGE_RECIPIENT,
        validFromMs: FIXED_T0 - DAY_MS,
        validUntilMs: FIXED_T0 + 30 * DAY_MS,
      }],
      intake: [{
        publicKey: intake!.publicKey,
        ageRecipient: AGE_RECIPIENT,
        validFromMs: FIXED_T0 - DAY_MS,
        validUntilMs: FIXED_T0 + 30 * DAY_MS,
      }],
    },
  });
  const directoryBytes = await signDirectory({ payload: directoryPayload, signers: [rootA!] });
  const directory = await verifyDirectory(directoryBytes, {
    root: rootV1,
    clock,
    skewMs: SKEW_MS,
    versionStore: new MemoryVersionStore(),
  });

  // ---- template manifest, tool manifest, audit event, raw 2-of-3 DSSE
  const manifest = await signStatement({
    payloadType: PAYLOAD_TYPES.templateManifest,
    payload: { id: "blog_article_intent", version: 1, sha256: "ab".repeat(32), ...validity },
    signers: [rootA!],
  });
  const tools = await signToolManifest({
    version: 2,
    tools: [{
      name: "markdown_to_html",
      module: "core/domain/toolgate/tools/markdown_to_html.ts",
      sha256: "cd".repeat(32),
      args_schema: {
        type: "object",
        properties: { markdown: { type: "string", maxLength: 200_000 } },
        required: ["markdown"],
        additionalProperties: false,
      },
      timeout_ms: 5000,
    }],
    signers: [rootA!],
    issuedAt: FIXED_T0,
    validForMs: 90 * DAY_MS,
  });
  const event = await signStatement({
    payloadType: PAYLOAD_TYPES.auditEvent,
    payload: encodeEvent(buildEvent({
      type: "rejected",
      agent: "planner",
      at: formatTimestamp(FIXED_T0),
      session_id: SESSION,
      envelope_id: ENVELOPE,
      reason: "bad_signature",
      detail: { message: "Cannot accept <script>", step: 4, nested: { a: [true, null] } },
    })),
    signers: [planner!],
  });
  const rawType = "application/vnd.saoe.fuzz.v1+json";
  const rawDsse = await signStatement({
    payloadType: rawType,
    payload: { n: 7, s: "caf\u00e9 \u{1f600}", ...validity },
    signers: [rootA!, rootC!],
  });
  const rawDecoder = obj({
    n: int(0, 1000),
    s: str({ maxLength: 64 }),
    issued_at: timestamp,
    expires_at: timestamp,
  });

  return [
    {
      kind: "plan",
      seeds: plans,
      maxBytes: MAX_PLAN_BYTES,
      reproducible: true,
      verify: (b) =>
        verifyPlan(b, { planner: keySet("planner", [planner!]), clock, skewMs: SKEW_MS }),
      resign: statement(PAYLOAD_TYPES.plan, [planner!]),
    },
    {
      kind: "capset",
      seeds: capsets,
      maxBytes: MAX_CAPSET_BYTES,
      reproducible: true,
      verify: (b) =>
        verifyCapset(b, {
          dispatcher,
          clock,
          skewMs: SKEW_MS,
          versionStore: new MemoryVersionStore({ "capset:text_formatter": 3 }),
          expectedAgent: "text_formatter",
        }),
      resign: statement(PAYLOAD_TYPES.capset, [rootA!]),
    },
    {
      kind: "root_v1",
      seeds: [v1],
      maxBytes: ROOT_MAX_BYTES,
      reproducible: true,
      // the pin names the mutated bytes: what is left to stop them is v1's own checks
      verify: async (b) => (await chain([b], await sha256Hex(new Uint8Array(b)))).payload,
      resign: statement(PAYLOAD_TYPES.root, [rootA!]),
    },
    {
      kind: "root_v2",
      seeds: [v2],
      maxBytes: ROOT_MAX_BYTES,
      reproducible: true,
      verify: async (b) => (await chain([v1, b], pinV1)).payload,
      resign: statement(PAYLOAD_TYPES.root, [rootA!, rootB!, rootC!]),
    },
    {
      kind: "directory",
      seeds: [directoryBytes],
      maxBytes: TRUST_FILE_MAX_BYTES,
      reproducible: true,
      verify: async (b) => {
        const d = await verifyDirectory(b, {
          root: rootV1,
          clock,
          skewMs: SKEW_MS,
          versionStore: new MemoryVersionStore({ directory: 4 }),
        });
        return {
          version: d.version,
          agents: d.agents().map((a) => [a, d.senderKeys(a, clock.now())]),
        };
      },
      resign: statement(PAYLOAD_TYPES.directory, [rootA!]),
    },
    {
      kind: "template_manifest",
      seeds: [manifest],
      maxBytes: MAX_MANIFEST_BYTES,
      reproducible: true,
      // exactly the vault reader's verification of a manifest (core/domain/vault/reader.ts)
      verify: async (b) =>
        (await verifyStatement(b, {
          payloadType: PAYLOAD_TYPES.templateManifest,
          trusted: [dispatcher],
          signatureCode: "dispatcher_signature",
          what: "manifest of template blog_article_intent@1",
          decode: decodeTemplateManifest,
          clock,
          skewMs: SKEW_MS,
          maxBytes: MAX_MANIFEST_BYTES,
        })).payload,
      resign: statement(PAYLOAD_TYPES.templateManifest, [rootA!]),
    },
    {
      kind: "tool_manifest",
      seeds: [tools],
      maxBytes: MAX_TOOL_MANIFEST_BYTES,
      reproducible: true,
      verify: (b) => verifyToolManifest(b, { dispatcher, clock, skewMs: SKEW_MS }),
      resign: statement(PAYLOAD_TYPES.toolManifest, [rootA!]),
    },
    {
      kind: "audit_event",
      seeds: [event],
      maxBytes: MAX_REPORT_LINE_BYTES,
      reproducible: true,
      // what a compromised agent writes to the supervisor's pipe
      verify: async (b) => {
        const line = await checkReportLine(b, { agent: "planner", directory, clock });
        return line.kind === "event" ? line.event : line;
      },
      resign: statement(PAYLOAD_TYPES.auditEvent, [planner!]),
    },
    {
      kind: "dsse",
      seeds: [rawDsse],
      maxBytes: 64 * 1024,
      reproducible: true,
      verify: async (b) =>
        (await verifyStatement(b, {
          payloadType: rawType,
          trusted: [keySet("dispatcher 2 of 3", [rootA!, rootB!, rootC!], 2)],
          signatureCode: "bad_signature",
          what: "raw statement",
          decode: rawDecoder,
          clock,
          skewMs: SKEW_MS,
          maxBytes: 64 * 1024,
        })).payload,
      resign: statement(rawType, [rootA!, rootB!]),
    },
  ];
}
