/**
 * Attack 11: abuse of intake, the pipeline's front door, over real HTTP. No
 * credential (401) and a wrong one (403); CSRF against the web form (a
 * cross-site post carrying the operator's session cookie, and a same-site post
 * without the form's CSRF token: 403); three images (one more than allowed),
 * an image one byte over 20 MiB, and a decompression bomb (a small PNG whose
 * header declares 20000×20000 pixels: 413 before anything is decoded); a queue
 * flood (submissions held open until the queue limit, counting those still
 * being written, is reached: 503, or 429 when the credential's quota stops the
 * flood first); and a burst past the per-credential quota (429). Each refusal
 * must also be in the ledger as `intake_refused` with its reason code.
 *
 * @module
 */
import type { AttackContext } from "../context.ts";
import { awaitVerdicts } from "../expect.ts";
import { bombPng, solidPng } from "../png.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "intake-abuse";
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Most submissions the flood holds open at once. */
const MAX_HELD = 64;

interface HttpTry {
  tried: string;
  /** Expected HTTP statuses and the reason code each means. */
  expect: Readonly<Record<number, string>>;
  send(): Promise<Response>;
}

function line(
  verdict: "BLOCKED" | "BREACH",
  tried: string,
  where: string,
  code: string,
): AttackLine {
  return { attack: NAME, verdict, tried, where, code };
}

async function judge(ctx: AttackContext, t: HttpTry): Promise<AttackLine> {
  const since = await ctx.probe.mark();
  let res: Response;
  try {
    res = await t.send();
  } catch (err: unknown) {
    return line(
      "BREACH",
      t.tried,
      `the request failed: ${err instanceof Error ? err.message : String(err)}`,
      Object.values(t.expect)[0]!,
    );
  }
  const text = await res.text();
  const code = t.expect[res.status];
  if (code === undefined) {
    return line(
      "BREACH",
      t.tried,
      `intake answered HTTP ${res.status}${res.ok ? " and accepted it" : ""}`,
      Object.values(t.expect)[0]!,
    );
  }
  let reason: string | undefined;
  try {
    reason = (JSON.parse(text) as { reason?: string }).reason;
  } catch {
    reason = undefined; // the web form answers HTML
  }
  if (reason !== undefined && reason !== code) {
    return line("BREACH", t.tried, `intake answered ${res.status} with reason ${reason}`, code);
  }
  const [verdict] = await awaitVerdicts([{
    tried: t.tried,
    code,
    subject: (e) => e.type === "intake_refused" && e.reason === code,
    refusal: (e) => e.detail?.status === res.status,
    breach: () => false,
    where: (e) => `intake, ${String(e.detail?.surface ?? "api")} (HTTP ${res.status})`,
  }], { probe: ctx.probe, since, timeoutMs: ctx.timeoutMs });
  return { ...verdict!, attack: NAME };
}

function api(ctx: AttackContext, init: RequestInit): Promise<Response> {
  return fetch(`${ctx.intakeUrl}/api/submit`, { method: "POST", ...init });
}

function article(title: string): string {
  return JSON.stringify({ title, markdown: "flood" });
}

function multipart(images: readonly Uint8Array<ArrayBuffer>[]): FormData {
  const form = new FormData();
  form.set("title", "images");
  form.set("markdown", "images");
  images.forEach((bytes, i) => form.append("images", new Blob([bytes]), `image${i}.png`));
  return form;
}

async function login(ctx: AttackContext, token: string): Promise<string | undefined> {
  const res = await fetch(`${ctx.intakeUrl}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ credential: token }),
    redirect: "manual",
  });
  await res.body?.cancel();
  const cookie = res.headers.get("set-cookie");
  return cookie === null ? undefined : cookie.split(";")[0];
}

async function csrfTries(ctx: AttackContext, token: string): Promise<HttpTry[]> {
  const page = await fetch(`${ctx.intakeUrl}/login`);
  await page.body?.cancel();
  if (page.status === 404) {
    ctx.log("attack: intake has no web form in this build; CSRF not tried");
    return [];
  }
  const form = () => {
    const data = new FormData();
    data.set("title", "csrf");
    data.set("markdown", "posted by another site");
    return data;
  };
  return [
    {
      tried: "CSRF: a cross-site form post carrying the operator's logged-in session cookie",
      expect: { 403: "bad_credential" },
      async send() {
        const cookie = await login(ctx, token);
        return await fetch(`${ctx.intakeUrl}/submit`, {
          method: "POST",
          headers: {
            ...(cookie !== undefined ? { cookie } : {}),
            origin: "http://evil.example",
            "sec-fetch-site": "cross-site",
          },
          body: form(),
          redirect: "manual",
        });
      },
    },
    {
      tried: "CSRF: a same-site form post with the session cookie but without the CSRF token",
      expect: { 403: "bad_credential" },
      async send() {
        const cookie = await login(ctx, token);
        return await fetch(`${ctx.intakeUrl}/submit`, {
          method: "POST",
          headers: cookie !== undefined ? { cookie } : {},
          body: form(),
          redirect: "manual",
        });
      },
    },
  ];
}

/** Holds submissions open (their bodies never end) until the queue limit is reached. */
async function flood(ctx: AttackContext, token: string): Promise<AttackLine> {
  const tried = `a queue flood: ${
    Math.min(ctx.config.intake.max_queue_depth, MAX_HELD)
  } submissions held open, then one more`;
  const held: { abort: AbortController; response: Promise<Response | undefined> }[] = [];
  const n = Math.min(ctx.config.intake.max_queue_depth, MAX_HELD);
  try {
    for (let i = 0; i < n; i++) {
      const abort = new AbortController();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          // the headers and a first chunk go out; the rest never comes
          controller.enqueue(new TextEncoder().encode('{"title":"held",'));
        },
      });
      const response = fetch(`${ctx.intakeUrl}/api/submit`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
        signal: abort.signal,
      }).catch(() => undefined);
      held.push({ abort, response });
    }
    // let intake admit every held request before the last one knocks
    await new Promise((r) => setTimeout(r, 300));
    return await judge(ctx, {
      tried,
      expect: { 503: "queue_full", 429: "quota_exceeded" },
      send: () =>
        api(ctx, {
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: article("one more"),
        }),
    });
  } finally {
    for (const h of held) h.abort.abort();
    for (const h of held) {
      const res = await h.response;
      await res?.body?.cancel().catch(() => {});
    }
  }
}

/** Sends until intake answers 429, at most the quota plus one requests. */
async function burst(ctx: AttackContext, token: string): Promise<AttackLine> {
  const limit = ctx.config.intake.person_per_minute;
  const tried = `a burst of up to ${limit + 1} submissions in a minute (quota ${limit})`;
  for (let i = 0; i <= limit; i++) {
    const since = await ctx.probe.mark();
    // an empty object: admitted (quota taken), then refused for its body, so nothing is written
    const res = await api(ctx, {
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    await res.body?.cancel();
    if (res.status === 429) {
      const retry = res.headers.get("retry-after");
      const [verdict] = await awaitVerdicts([{
        tried,
        code: "quota_exceeded",
        subject: (e) => e.type === "intake_refused" && e.reason === "quota_exceeded",
        refusal: () => true,
        breach: () => false,
        where: () =>
          `intake, per-credential sliding quota (HTTP 429, Retry-After ${
            retry ?? "missing"
          }) after ${i + 1} requests`,
      }], { probe: ctx.probe, since, timeoutMs: ctx.timeoutMs });
      return {
        ...verdict!,
        attack: NAME,
        ...(retry === null ? { verdict: "BREACH" as const } : {}),
      };
    }
    if (res.ok) {
      return line("BREACH", tried, "intake accepted an empty submission", "quota_exceeded");
    }
  }
  return line(
    "BREACH",
    tried,
    `intake never answered 429 in ${limit + 1} requests`,
    "quota_exceeded",
  );
}

/** Attack 11. */
export const intakeAbuse: Attack = {
  name: NAME,
  number: 11,
  summary:
    "submits without and with a wrong credential, posts the web form cross-site and without its CSRF token, sends 3 images, an oversize image and a 20000x20000 PNG bomb, floods the queue and bursts past the quota",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    if (ctx.intakeUrl === undefined) {
      return [
        line(
          "BREACH",
          "intake abuse",
          "this home runs no intake agent to attack",
          "unauthenticated",
        ),
      ];
    }
    const token = await ctx.operatorToken();
    const bearer = { authorization: `Bearer ${token}` };
    const small = await solidPng(4, 4);
    const oversize = new Uint8Array(MAX_IMAGE_BYTES + 1);
    oversize.set(small);
    const tries: HttpTry[] = [
      {
        tried: "a submission without a credential",
        expect: { 401: "unauthenticated" },
        send: () =>
          api(ctx, { headers: { "content-type": "application/json" }, body: article("anon") }),
      },
      {
        tried: "a submission with a wrong credential",
        expect: { 403: "bad_credential" },
        send: () =>
          api(ctx, {
            headers: {
              authorization: `Bearer saoe_operator_${"A".repeat(43)}`,
              "content-type": "application/json",
            },
            body: article("wrong"),
          }),
      },
      {
        tried: "a submission with 3 images (at most 2)",
        expect: { 413: "payload_too_large" },
        send: () => api(ctx, { headers: bearer, body: multipart([small, small, small]) }),
      },
      {
        tried: `an image of ${MAX_IMAGE_BYTES + 1} bytes (one over 20 MiB)`,
        expect: { 413: "size_exceeded" },
        send: () => api(ctx, { headers: bearer, body: multipart([oversize]) }),
      },
      {
        tried: "a decompression bomb: a small PNG declaring 20000x20000 pixels",
        expect: { 413: "size_exceeded" },
        send: async () =>
          api(ctx, { headers: bearer, body: multipart([await bombPng(20000, 20000, 1 << 20)]) }),
      },
      ...await csrfTries(ctx, token),
    ];
    const lines: AttackLine[] = [];
    for (const t of tries) lines.push(await judge(ctx, t));
    lines.push(await flood(ctx, token));
    lines.push(await burst(ctx, token));
    return lines;
  },
};
