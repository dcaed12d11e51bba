/**
 * Fixtures shared by the capset tests: the pipeline's capability sets
 * (docs/design.md section 1), the table of exact flags each agent must get (a shared conformance
 * table: ToolGate's tests can run the same grants), a version store double and
 * a dispatcher key set.
 *
 * @module
 */
import { generateSeed, SigningKey } from "../../../core/primitives/crypto/ed25519.ts";
import type { TrustedKeySet } from "../../../core/primitives/dsse/types.ts";
import type { Capset, CapsetSource } from "../../../core/domain/capset/types.ts";
import type { VersionStore } from "../../../core/domain/trust/version_store.ts";

/** The home every flag table is written against. */
export const HOME = "/srv/saoe";

/** Limits every fixture capset uses. */
export const LIMITS = {
  max_envelope_bytes: 65536,
  quota_per_minute: 60,
  max_inbox_depth: 100,
  max_quarantine: 100,
};

/** A capset source with empty lists, overridden by `fields`. */
export function source(agent: string, fields: Partial<CapsetSource> = {}): CapsetSource {
  return {
    agent,
    version: 1,
    receives: [],
    sends: [],
    tools: [],
    vault: [],
    fs: { read: [], write: [] },
    net: [],
    limits: LIMITS,
    ...fields,
  };
}

/** A signed-form capset (validity window added) from a source. */
export function capsetOf(src: CapsetSource): Capset {
  return { ...src, issued_at: "2026-01-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z" };
}

/** The pipeline of docs/design.md section 1, one capset source per agent. */
export function pipelineSources(): CapsetSource[] {
  return [
    source("intake", {
      sends: [{ to: "sanitization", templates: ["article_submission"] }],
      vault: ["article_submission"],
      fs: { read: [], write: ["uploads"] },
      net: ["127.0.0.1:8090"],
    }),
    source("sanitization", {
      receives: [{ from: "intake", templates: ["article_submission"] }],
      sends: [{ to: "planner", templates: ["article_sanitized"] }],
      vault: ["article_submission", "article_sanitized"],
    }),
    source("planner", {
      receives: [{ from: "sanitization", templates: ["article_sanitized"] }],
      sends: [
        { to: "text_formatter", templates: ["format_request"] },
        { to: "image_filter", templates: ["image_request"] },
        { to: "deployment", templates: ["publish_announcement"] },
      ],
      vault: ["article_sanitized", "format_request", "image_request", "publish_announcement"],
    }),
    source("text_formatter", {
      receives: [{ from: "planner", templates: ["format_request"] }],
      sends: [{ to: "deployment", templates: ["formatted_text"] }],
      tools: [{ name: "markdown_to_html", allowed_args: { max_bytes: { max: 1048576 } } }],
      vault: ["format_request", "formatted_text"],
    }),
    source("image_filter", {
      receives: [{ from: "planner", templates: ["image_request"] }],
      sends: [{ to: "deployment", templates: ["filtered_image"] }],
      tools: [{ name: "image_sanitize", allowed_args: {} }],
      vault: ["image_request", "filtered_image"],
      fs: { read: ["uploads"], write: ["media"] },
    }),
    source("deployment", {
      receives: [
        { from: "planner", templates: ["publish_announcement"] },
        { from: "text_formatter", templates: ["formatted_text"] },
        { from: "image_filter", templates: ["filtered_image"] },
      ],
      vault: ["publish_announcement", "formatted_text", "filtered_image"],
      fs: { read: ["media"], write: ["output"] },
    }),
    source("viewer", { fs: { read: ["output", "audit"], write: [] }, net: ["127.0.0.1:8080"] }),
  ];
}

/** Every template the pipeline names. */
export const PIPELINE_TEMPLATES: ReadonlySet<string> = new Set([
  "article_submission",
  "article_sanitized",
  "format_request",
  "image_request",
  "publish_announcement",
  "formatted_text",
  "filtered_image",
]);

/** Every tool the pipeline names. */
export const PIPELINE_TOOLS: ReadonlySet<string> = new Set(["markdown_to_html", "image_sanitize"]);

const DENIED = ["--deny-env", "--deny-run", "--deny-ffi", "--deny-sys"];
const H = HOME;

/** One row of the grant table: the exact flags an agent must run with. */
export interface GrantRow {
  agent: string;
  flags: string[];
}

/** The exact flags of each pipeline agent, written out by hand (not derived). */
export const GRANT_TABLE: readonly GrantRow[] = [
  {
    agent: "intake",
    flags: [
      `--allow-read=${H}/agents/intake,${H}/agents/sanitization/inbox/intake,${H}/trust,${H}/uploads,${H}/vault/capsets/intake.age,${H}/vault/capsets/sanitization.age,${H}/vault/templates/article_submission`,
      `--allow-write=${H}/agents/intake,${H}/agents/sanitization/inbox/intake,${H}/uploads`,
      "--allow-net=127.0.0.1:8090",
      ...DENIED,
    ],
  },
  {
    agent: "sanitization",
    flags: [
      `--allow-read=${H}/agents/planner/inbox/sanitization,${H}/agents/sanitization,${H}/trust,${H}/vault/capsets/intake.age,${H}/vault/capsets/planner.age,${H}/vault/capsets/sanitization.age,${H}/vault/templates/article_sanitized,${H}/vault/templates/article_submission`,
      `--allow-write=${H}/agents/planner/inbox/sanitization,${H}/agents/sanitization`,
      "--deny-net",
      ...DENIED,
    ],
  },
  {
    agent: "planner",
    flags: [
      `--allow-read=${H}/agents/deployment/inbox/planner,${H}/agents/image_filter/inbox/planner,${H}/agents/planner,${H}/agents/text_formatter/inbox/planner,${H}/trust,${H}/vault/capsets/deployment.age,${H}/vault/capsets/image_filter.age,${H}/vault/capsets/planner.age,${H}/vault/capsets/sanitization.age,${H}/vault/capsets/text_formatter.age,${H}/vault/templates/article_sanitized,${H}/vault/templates/format_request,${H}/vault/templates/image_request,${H}/vault/templates/publish_announcement`,
      `--allow-write=${H}/agents/deployment/inbox/planner,${H}/agents/image_filter/inbox/planner,${H}/agents/planner,${H}/agents/text_formatter/inbox/planner`,
      "--deny-net",
      ...DENIED,
    ],
  },
  {
    agent: "text_formatter",
    flags: [
      "--unstable-worker-options",
      `--allow-read=${H}/agents/deployment/inbox/text_formatter,${H}/agents/text_formatter,${H}/trust,${H}/vault/capsets/deployment.age,${H}/vault/capsets/planner.age,${H}/vault/capsets/text_formatter.age,${H}/vault/templates/format_request,${H}/vault/templates/formatted_text,${H}/vault/tools.manifest.json`,
      `--allow-write=${H}/agents/deployment/inbox/text_formatter,${H}/agents/text_formatter`,
      "--deny-net",
      ...DENIED,
    ],
  },
  {
    agent: "image_filter",
    flags: [
      "--unstable-worker-options",
      `--allow-read=${H}/agents/deployment/inbox/image_filter,${H}/agents/image_filter,${H}/media,${H}/trust,${H}/uploads,${H}/vault/capsets/deployment.age,${H}/vault/capsets/image_filter.age,${H}/vault/capsets/planner.age,${H}/vault/templates/filtered_image,${H}/vault/templates/image_request,${H}/vault/tools.manifest.json`,
      `--allow-write=${H}/agents/deployment/inbox/image_filter,${H}/agents/image_filter,${H}/media`,
      "--deny-net",
      ...DENIED,
    ],
  },
  {
    agent: "deployment",
    flags: [
      `--allow-read=${H}/agents/deployment,${H}/media,${H}/output,${H}/trust,${H}/vault/capsets/deployment.age,${H}/vault/capsets/image_filter.age,${H}/vault/capsets/planner.age,${H}/vault/capsets/text_formatter.age,${H}/vault/templates/filtered_image,${H}/vault/templates/formatted_text,${H}/vault/templates/publish_announcement`,
      `--allow-write=${H}/agents/deployment,${H}/output`,
      "--deny-net",
      ...DENIED,
    ],
  },
  {
    agent: "viewer",
    flags: [
      `--allow-read=${H}/agents/viewer,${H}/audit,${H}/output,${H}/trust,${H}/vault/capsets/viewer.age`,
      `--allow-write=${H}/agents/viewer`,
      "--allow-net=127.0.0.1:8080",
      ...DENIED,
    ],
  },
];

/** An in-memory {@linkcode VersionStore} double (the trust module ships the real ones). */
export class TestVersionStore implements VersionStore {
  readonly #versions = new Map<string, number>();
  /** Highest version recorded for `key`, or 0. */
  highest(key: string): Promise<number> {
    return Promise.resolve(this.#versions.get(key) ?? 0);
  }
  /** Records `version` if higher. */
  raise(key: string, version: number): Promise<void> {
    if (version > (this.#versions.get(key) ?? 0)) this.#versions.set(key, version);
    return Promise.resolve();
  }
}

/** A fresh dispatcher key and the trusted set that names it. */
export async function dispatcher(): Promise<{ key: SigningKey; trusted: TrustedKeySet }> {
  const key = await SigningKey.fromSeed(generateSeed());
  return {
    key,
    trusted: {
      name: "dispatcher",
      keys: [{ keyid: key.keyid, publicKey: key.publicKey }],
      threshold: 1,
    },
  };
}

/** Asserts that `fn` throws (or rejects with) a SaoeError with `code`; returns its message. */
export async function expectCode(
  fn: () => unknown,
  code: string,
): Promise<string> {
  try {
    await fn();
  } catch (err: unknown) {
    const actual = (err as { code?: unknown })?.code;
    if (actual !== code) {
      throw new Error(`Expected code ${code}, got ${String(actual)}: ${String(err)}`);
    }
    return (err as Error).message;
  }
  throw new Error(`Expected code ${code}, but nothing was thrown`);
}
