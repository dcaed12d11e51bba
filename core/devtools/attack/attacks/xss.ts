/**
 * Attack 12: cross-site scripting through everything an attacker can put on a
 * page: the article title and markdown (a script tag, an `onerror` image, an
 * `svg onload`, a `javascript:` link), an image file name and a template id
 * (both refused, so they can only reach the audit trail through the refusal's
 * fields), checked in the published `output/<session>/index.html` and in every
 * viewer page that shows them (article, session, audit trail). A page passes
 * when no attacker markup survives as markup (no script element, event-handler
 * attribute or `javascript:` URL carrying the attack's marker) and the viewer
 * sends its Content-Security-Policy.
 *
 * @module
 */
import { join } from "node:path";
import { sessionDir } from "../../../domain/home/layout.ts";
import type { AttackContext } from "../context.ts";
import { drop, signedEnvelope } from "../craft.ts";
import { awaitVerdicts } from "../expect.ts";
import type { Attack, AttackLine } from "../types.ts";

const NAME = "xss";

function payloads(marker: string): { title: string; markdown: string } {
  return {
    title: `<script>alert("${marker}")</script><img src=x onerror=alert("${marker}")>`,
    markdown: [
      "# Article",
      "",
      `<script>alert("${marker}")</script>`,
      "",
      `<img src=x onerror="alert('${marker}')">`,
      "",
      `[click me](javascript:alert('${marker}'))`,
      "",
      `<svg onload="alert('${marker}')"></svg>`,
      "",
      `<a href="javascript:alert('${marker}')">raw link</a>`,
    ].join("\n"),
  };
}

/**
 * The first piece of live attacker markup in `html` carrying `marker` (a script
 * element, an event-handler attribute, a `javascript:` URL), or `undefined`.
 *
 * @example
 * ```ts
 * import { liveMarkup } from "./xss.ts";
 * if (liveMarkup('<img src=x onerror="alert(1)">m1', "m1") !== undefined) throw new Error();
 * if (liveMarkup('<img src=x onerror="alert(\'m1\')">', "m1") === undefined) throw new Error();
 * if (liveMarkup("&lt;script&gt;alert('m1')&lt;/script&gt;", "m1") !== undefined) throw new Error();
 * ```
 */
export function liveMarkup(html: string, marker: string): string | undefined {
  const m = marker.replace(/[^a-z0-9]/gi, "");
  const checks: RegExp[] = [
    new RegExp(`<script\\b[^>]*>[^<]*${m}`, "i"),
    new RegExp(`<[a-z][^>]*\\son[a-z]+\\s*=[^>]*${m}`, "i"),
    new RegExp(
      `<[a-z][^>]*\\s(?:href|src|action|formaction)\\s*=\\s*["']?\\s*javascript:[^>]*${m}`,
      "i",
    ),
  ];
  for (const re of checks) {
    const found = re.exec(html);
    if (found !== null) return found[0].slice(0, 120);
  }
  return undefined;
}

/** `csp`: the header sent (`null`: none), or `undefined` for a file read from disk. */
function judgePage(
  tried: string,
  where: string,
  html: string,
  marker: string,
  csp?: string | null,
): AttackLine {
  const live = liveMarkup(html, marker);
  if (live !== undefined) {
    return {
      attack: NAME,
      verdict: "BREACH",
      tried,
      where: `${where} carries ${JSON.stringify(live)}`,
      code: "xss",
    };
  }
  if (csp === null || (csp !== undefined && !/default-src 'none'/.test(csp))) {
    return {
      attack: NAME,
      verdict: "BREACH",
      tried,
      where: `${where} has ${csp === null ? "no" : "a weak"} CSP${csp ? `: ${csp}` : ""}`,
      code: "xss",
    };
  }
  const shown = html.includes(marker) ? "shown as text" : "not shown";
  return {
    attack: NAME,
    verdict: "BLOCKED",
    tried,
    where: `${where}: the attacker's markup is ${shown}, never markup`,
    code: csp === undefined ? "escaped" : "escaped+csp",
  };
}

async function page(
  ctx: AttackContext,
  path: string,
): Promise<{ html: string; csp: string | null; status: number }> {
  const res = await fetch(`${ctx.viewerUrl}${path}`);
  return {
    html: await res.text(),
    csp: res.headers.get("content-security-policy"),
    status: res.status,
  };
}

/** Attack 12. */
export const xss: Attack = {
  name: NAME,
  number: 12,
  summary:
    "puts script tags, onerror/onload handlers and javascript: links into the title, markdown, an image name and a template id, then checks the published article and every viewer page that shows them",
  async run(ctx: AttackContext): Promise<AttackLine[]> {
    const marker = `saoexss${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const { title, markdown } = payloads(marker);
    const since = await ctx.probe.mark();
    const article = await signedEnvelope(ctx, {
      from: "intake",
      to: "sanitization",
      template: "blog_article_intent",
      payload: { title, markdown, image_count: 0 },
      humanReadable: `<script>alert("${marker}")</script>`,
    });
    await drop(ctx, "sanitization", "intake", article.bytes, article.envelopeId);
    // refused inputs reach pages only through audit fields
    const refusedSession = crypto.randomUUID();
    const badImage = await signedEnvelope(ctx, {
      from: "intake",
      to: "sanitization",
      template: "image_process_intent",
      sessionId: refusedSession,
      payload: {
        upload_file: `<img src=x onerror=alert('${marker}')>.png`,
        sha256: "0".repeat(64),
        media_type: "image/png",
        index: 0,
      },
    });
    const badTemplate = await signedEnvelope(ctx, {
      from: "intake",
      to: "sanitization",
      template: "blog_article_intent",
      sessionId: refusedSession,
      payload: { title: "t", markdown: "m", image_count: 0 },
      set: [{ path: "template.id", value: `<script>alert("${marker}")</script>` }],
    });
    await drop(ctx, "sanitization", "intake", badImage.bytes, badImage.envelopeId);
    await drop(ctx, "sanitization", "intake", badTemplate.bytes, badTemplate.envelopeId);
    const tried = "script, onerror, svg onload and javascript: links in the title and markdown";
    const [published] = await awaitVerdicts([{
      tried,
      code: "published",
      subject: (e) => e.session_id === article.sessionId,
      refusal: (e) => e.type === "published",
      breach: () => false,
      where: () => "published",
    }, {
      tried: "refusals",
      code: "rejected",
      subject: (e) =>
        e.envelope_id === badTemplate.envelopeId || e.envelope_id === badImage.envelopeId,
      refusal: (e) => e.type === "rejected" && e.envelope_id === badTemplate.envelopeId,
      breach: (e) => e.type === "validated",
      where: () => "refused",
    }], { probe: ctx.probe, since, timeoutMs: ctx.timeoutMs });
    if (published!.verdict !== "BLOCKED") {
      return [{
        attack: NAME,
        verdict: "BREACH",
        tried,
        where: `the article was never published (${
          published!.where
        }), so its pages could not be checked`,
        code: "xss",
      }];
    }
    const lines: AttackLine[] = [];
    const file = join(sessionDir(ctx.home, "output", article.sessionId), "index.html");
    lines.push(
      judgePage(
        tried,
        "the published output/<session>/index.html",
        await Deno.readTextFile(file),
        marker,
      ),
    );
    if (ctx.viewerUrl === undefined) {
      ctx.log("attack: no viewer runs on this home; only the published article was checked");
      return lines;
    }
    const views: [string, string][] = [
      [`/output/${article.sessionId}/`, "the viewer's article page"],
      [`/sessions/${article.sessionId}`, "the viewer's session page"],
      [`/audit?session=${article.sessionId}`, "the viewer's audit trail of the session"],
      ["/articles", "the viewer's article list"],
    ];
    for (const [path, label] of views) {
      const got = await page(ctx, path);
      lines.push(
        got.status === 200
          ? judgePage(tried, `${label} (${path.split("?")[0]})`, got.html, marker, got.csp)
          : {
            attack: NAME,
            verdict: "BREACH",
            tried,
            where: `${label} answered HTTP ${got.status}`,
            code: "xss",
          },
      );
    }
    const audit = await page(ctx, `/audit?session=${refusedSession}`);
    lines.push(
      audit.status === 200
        ? judgePage(
          "markup in an image file name and a template id (both refused), shown through audit fields",
          "the viewer's audit trail of the refusals",
          audit.html,
          marker,
          audit.csp,
        )
        : {
          attack: NAME,
          verdict: "BREACH",
          tried: "audit fields",
          where: `audit page answered HTTP ${audit.status}`,
          code: "xss",
        },
    );
    return lines;
  },
};
