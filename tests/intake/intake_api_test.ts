/**
 * The intake agent as a real process behind real HTTP: accepted submissions
 * reach sanitization's inbox and `uploads/`, and every refusal answers with its
 * status and reason code, writes nothing and is audited as `intake_refused`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PNG } from "pngjs";
import { sha256Hex } from "../../core/primitives/crypto/bytes.ts";
import { UUID_RE } from "../../core/primitives/ids/patterns.ts";
import {
  type IntakeProcess,
  listNames,
  listTree,
  pngHeader,
  queuedEnvelopes,
  startIntake,
} from "./_fixtures.ts";

function realPng(width: number, height: number): Uint8Array<ArrayBuffer> {
  const png = new PNG({ width, height });
  png.data.fill(0x7f);
  return new Uint8Array(PNG.sync.write(png));
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  text: string;
}

async function post(
  p: IntakeProcess,
  options: {
    credential?: string | null;
    body?: BodyInit;
    headers?: Record<string, string>;
    path?: string;
    method?: string;
  },
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.credential !== null) {
    headers.authorization = `Bearer ${options.credential ?? p.automation}`;
  }
  const res = await fetch(`${p.url}${options.path ?? "/api/submit"}`, {
    method: options.method ?? "POST",
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), headers: res.headers, text };
}

async function rawPost(p: IntakeProcess, host: string): Promise<Answer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
  const body = JSON.stringify({ title: "x", markdown: "" });
  await conn.write(new TextEncoder().encode(
    `POST /api/submit HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${p.automation}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  ));
  const raw = new TextDecoder().decode(
    new Uint8Array(await new Response(conn.readable).arrayBuffer()),
  );
  const [head = "", text = ""] = raw.split("\r\n\r\n");
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers = new Headers(lines.map((l) => l.split(/:\s*/, 2) as [string, string]));
  return { status: Number(statusLine.split(" ")[1]), body: JSON.parse(text), headers, text };
}

function jsonBody(value: unknown): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(value), headers: { "content-type": "application/json" } };
}

function form(
  fields: Record<string, string>,
  images: Uint8Array<ArrayBuffer>[],
  imageField = "images",
): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  images.forEach((bytes, i) => data.append(imageField, new Blob([bytes]), `img${i}.png`));
  return data;
}

/** Runs `request`, then checks the refusal: status, reason, nothing written, one event. */
async function expectRefusal(
  p: IntakeProcess,
  request: () => Promise<Answer>,
  expected: { status: number; reason: string; credential?: string },
): Promise<Answer> {
  const uploadsBefore = await listTree(p.home.uploads);
  const queueBefore = await listNames(p.queue);
  const refusedBefore = p.events.filter((e) => e.type === "intake_refused").length;
  const answer = await request();
  assert.equal(answer.status, expected.status, answer.text);
  assert.equal(answer.body.ok, false);
  assert.equal(answer.body.reason, expected.reason);
  assert.equal(typeof answer.body.error, "string");
  assert.equal(answer.headers.get("x-content-type-options"), "nosniff");
  assert.ok(!answer.text.includes(p.person) && !answer.text.includes(p.automation));
  assert.ok(!/\bat .*\.ts:\d+/.test(answer.text), "no stack trace");
  const event = await p.waitForEvent((e) =>
    e.type === "intake_refused" &&
    p.events.filter((x) => x.type === "intake_refused").indexOf(e) === refusedBefore
  );
  assert.equal(event.reason, expected.reason);
  assert.equal(event.detail?.status, expected.status);
  assert.equal(event.detail?.credential, expected.credential);
  const line = JSON.stringify(event);
  assert.ok(!line.includes(p.person) && !line.includes(p.automation), "credential not audited");
  assert.deepEqual(await listTree(p.home.uploads), uploadsBefore, "nothing staged");
  assert.deepEqual(await listNames(p.queue), queueBefore, "nothing queued");
  return answer;
}

Deno.test({
  name: "the intake agent accepts real submissions and refuses every bad request",
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const p = await startIntake();
  try {
    await t.step(
      "a JSON submission queues one blog_article_intent and audits intake_accepted",
      async () => {
        const answer = await post(p, {
          credential: p.person,
          ...jsonBody({ title: "Hello", markdown: "# Hello\n\nworld" }),
        });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.ok, true);
        assert.equal(answer.body.image_count, 0);
        const session = answer.body.session_id as string;
        assert.match(session, UUID_RE);
        const queued = await queuedEnvelopes(p.queue);
        assert.equal(queued.length, 1);
        assert.equal(queued[0]!.template, "blog_article_intent");
        assert.equal(queued[0]!.session_id, session);
        assert.deepEqual(queued[0]!.payload, {
          title: "Hello",
          markdown: "# Hello\n\nworld",
          image_count: 0,
        });
        const accepted = await p.waitForEvent((e) =>
          e.type === "intake_accepted" && e.session_id === session
        );
        assert.deepEqual(accepted.detail, { credential: "operator", image_count: 0 });
        await p.waitForEvent((e) => e.type === "forwarded" && e.session_id === session);
        assert.deepEqual(await listNames(p.home.uploads), []);
      },
    );

    await t.step(
      "a multipart submission stages the image by its sha256 and queues two envelopes",
      async () => {
        const png = realPng(8, 6);
        const sha = await sha256Hex(png);
        const before = new Set(await listNames(p.queue));
        const answer = await post(p, {
          credential: p.person,
          body: form({ title: "With image", markdown: "text" }, [png]),
        });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.body.image_count, 1);
        const session = answer.body.session_id as string;
        const folder = join(p.home.uploads, session);
        assert.deepEqual(await listNames(folder), [`${sha}.png`]);
        // its group (the uploads readers) may enter it, nobody else
        assert.equal((await Deno.stat(folder)).mode! & 0o777, 0o750);
        assert.deepEqual(await Deno.readFile(join(folder, `${sha}.png`)), png);
        const queued = (await queuedEnvelopes(p.queue)).filter((e) => e.session_id === session);
        assert.equal((await listNames(p.queue)).filter((n) => !before.has(n)).length, 2);
        const article = queued.find((e) => e.template === "blog_article_intent");
        const image = queued.find((e) => e.template === "image_process_intent");
        assert.deepEqual(article?.payload, {
          title: "With image",
          markdown: "text",
          image_count: 1,
        });
        assert.deepEqual(image?.payload, {
          upload_file: `${sha}.png`,
          sha256: sha,
          media_type: "image/png",
          index: 0,
        });
        const accepted = await p.waitForEvent((e) =>
          e.type === "intake_accepted" && e.session_id === session
        );
        assert.deepEqual(accepted.detail, { credential: "operator", image_count: 1 });
      },
    );

    await t.step("two images of exactly 20 MiB each are accepted and both staged", async () => {
      const a = pngHeader(4000, 3000, 20 * 1024 * 1024);
      const b = pngHeader(4000, 3000, 20 * 1024 * 1024);
      b[b.length - 1] = 1;
      const answer = await post(p, { body: form({ title: "max", markdown: "" }, [a, b]) });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.body.image_count, 2);
      const folder = join(p.home.uploads, answer.body.session_id as string);
      assert.deepEqual(
        await listNames(folder),
        [`${await sha256Hex(a)}.png`, `${await sha256Hex(b)}.png`].sort(),
      );
      const images = (await queuedEnvelopes(p.queue)).filter((e) =>
        e.session_id === answer.body.session_id && e.template === "image_process_intent"
      );
      assert.deepEqual(images.map((e) => e.payload.index).sort(), [0, 1]);
    });

    await t.step("a request without a credential is refused with 401", async () => {
      await expectRefusal(
        p,
        () => post(p, { credential: null, ...jsonBody({ title: "x", markdown: "" }) }),
        { status: 401, reason: "unauthenticated" },
      );
      await expectRefusal(
        p,
        () =>
          post(p, {
            credential: null,
            body: JSON.stringify({ title: "x", markdown: "" }),
            headers: { "content-type": "application/json", authorization: "Basic b3BzOnB3" },
          }),
        { status: 401, reason: "unauthenticated" },
      );
    });

    await t.step("a wrong credential is refused with 403", async () => {
      const wrong = `saoe_operator_${"A".repeat(43)}`;
      await expectRefusal(
        p,
        () => post(p, { credential: wrong, ...jsonBody({ title: "x", markdown: "" }) }),
        { status: 403, reason: "bad_credential" },
      );
    });

    await t.step("an image over 20 MiB is refused with 413", async () => {
      const big = pngHeader(100, 100, 20 * 1024 * 1024 + 1);
      await expectRefusal(
        p,
        () => post(p, { body: form({ title: "big", markdown: "" }, [big]) }),
        { status: 413, reason: "size_exceeded", credential: "ci" },
      );
    });

    await t.step("three images are refused", async () => {
      const png = realPng(2, 2);
      await expectRefusal(
        p,
        () => post(p, { body: form({ title: "three", markdown: "" }, [png, png, png]) }),
        { status: 413, reason: "payload_too_large", credential: "ci" },
      );
    });

    await t.step("a PNG declaring 20000x20000 pixels is refused from its header", async () => {
      await expectRefusal(
        p,
        () => post(p, { body: form({ title: "bomb", markdown: "" }, [pngHeader(20000, 20000)]) }),
        { status: 413, reason: "size_exceeded", credential: "ci" },
      );
    });

    await t.step("a file that is not a JPEG or PNG is refused whatever its name", async () => {
      const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00\x00\x00\x00;");
      await expectRefusal(
        p,
        () => post(p, { body: form({ title: "gif", markdown: "" }, [gif]) }),
        { status: 415, reason: "unsupported_media", credential: "ci" },
      );
    });

    await t.step("a good image next to a bad one stages nothing", async () => {
      await expectRefusal(
        p,
        () =>
          post(p, {
            body: form({ title: "mixed", markdown: "" }, [realPng(2, 2), pngHeader(9000, 9000)]),
          }),
        { status: 413, reason: "size_exceeded", credential: "ci" },
      );
    });

    await t.step("text limits are checked in code points", async () => {
      await expectRefusal(
        p,
        () => post(p, jsonBody({ title: "😀".repeat(201), markdown: "" })),
        { status: 413, reason: "payload_too_large", credential: "ci" },
      );
      await expectRefusal(
        p,
        () => post(p, jsonBody({ title: "long", markdown: "x".repeat(200_001) })),
        { status: 413, reason: "payload_too_large", credential: "ci" },
      );
      await expectRefusal(
        p,
        () => post(p, jsonBody({ title: "", markdown: "x" })),
        { status: 400, reason: "schema", credential: "ci" },
      );
      const ok = await post(p, jsonBody({ title: "😀".repeat(200), markdown: "x" }));
      assert.equal(ok.status, 200, ok.text);
    });

    await t.step("malformed and unexpected bodies are refused", async () => {
      await expectRefusal(
        p,
        () => post(p, { body: "{not json", headers: { "content-type": "application/json" } }),
        { status: 400, reason: "parse_error", credential: "ci" },
      );
      await expectRefusal(
        p,
        () =>
          post(p, {
            body: '{"title":"a","title":"b","markdown":""}',
            headers: { "content-type": "application/json" },
          }),
        { status: 400, reason: "duplicate_key", credential: "ci" },
      );
      await expectRefusal(
        p,
        () => post(p, jsonBody({ title: "a", markdown: "", image_count: 2 })),
        { status: 400, reason: "schema", credential: "ci" },
      );
      await expectRefusal(
        p,
        () => post(p, { body: "title=a", headers: { "content-type": "text/plain" } }),
        { status: 415, reason: "unsupported_media", credential: "ci" },
      );
    });

    await t.step("a body over 45 MiB is refused while it streams", async () => {
      const chunk = new Uint8Array(1024 * 1024);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ >= 50) controller.close();
          else controller.enqueue(chunk);
        },
      });
      await expectRefusal(
        p,
        () =>
          post(p, {
            body: stream,
            headers: { "content-type": "multipart/form-data; boundary=x" },
          }),
        { status: 413, reason: "size_exceeded", credential: "ci" },
      );
    });

    await t.step("unknown paths answer 404, other methods 405, foreign hosts 421", async () => {
      await expectRefusal(p, () => post(p, { path: "/admin" }), {
        status: 404,
        reason: "not_found",
      });
      const wrongMethod = await expectRefusal(p, () => post(p, { method: "GET" }), {
        status: 405,
        reason: "method_not_allowed",
      });
      assert.equal(wrongMethod.headers.get("allow"), "POST");
      // fetch() sets Host itself: a DNS-rebinding page's request, written by hand
      await expectRefusal(p, () => rawPost(p, "evil.test"), {
        status: 421,
        reason: "bad_host",
      });
    });

    await t.step(
      "a send that fails after staging removes the staged image and answers 500",
      async () => {
        // sanitization's inbox folder gone: the envelope cannot be written after the image was
        await Deno.remove(p.queue, { recursive: true });
        try {
          await expectRefusal(
            p,
            () => post(p, { body: form({ title: "fails", markdown: "" }, [realPng(3, 3)]) }),
            { status: 500, reason: "handler_error", credential: "ci" },
          );
        } finally {
          await Deno.mkdir(p.queue);
        }
      },
    );

    await t.step("stdout carries only signed events", () => {
      assert.deepEqual(p.strayLines, []);
    });
  } finally {
    await p.stop();
  }
});
