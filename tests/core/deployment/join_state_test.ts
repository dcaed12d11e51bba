import assert from "node:assert/strict";
import { isSaoeError, type ReasonCode } from "../../../core/primitives/errors.ts";
import {
  addArticle,
  addImage,
  type ArticlePart,
  emptyParts,
  type ImagePart,
  isComplete,
  JoinStore,
} from "../../../core/services/deployment/join_state.ts";

const SESSION = "0f8fad5b-d9cb-469f-a165-70867728950e";

function art(image_count: number, html = "<p>x</p>"): ArticlePart {
  return { envelope_id: crypto.randomUUID(), title: "T", html, image_count };
}

function img(index: number, sha = "ab".repeat(32)): ImagePart {
  return {
    envelope_id: crypto.randomUUID(),
    index,
    file: `${sha}.png`,
    sha256: sha,
    media_type: "image/png",
    width: 10,
    height: 10,
  };
}

function code(fn: () => unknown): ReasonCode {
  try {
    fn();
  } catch (err: unknown) {
    if (isSaoeError(err)) return err.code;
    throw err;
  }
  assert.fail("expected a refusal");
}

Deno.test("isComplete() waits for every image the article announced, in any arrival order", () => {
  let s = emptyParts(SESSION);
  s = addImage(s, img(1, "cd".repeat(32)));
  assert.equal(isComplete(s), false);
  s = addArticle(s, art(2));
  assert.equal(isComplete(s), false, "an image session never publishes text-only");
  s = addImage(s, img(0));
  assert.equal(isComplete(s), true);
  assert.deepEqual(s.images.map((i) => i.index), [0, 1]);
});

Deno.test("addArticle() and addImage() accept the same part again without change", () => {
  const a = art(1);
  const s1 = addArticle(emptyParts(SESSION), a);
  assert.equal(addArticle(s1, { ...a, envelope_id: crypto.randomUUID() }), s1);
  const i = img(0);
  const s2 = addImage(s1, i);
  assert.equal(addImage(s2, { ...i, envelope_id: crypto.randomUUID() }), s2);
});

Deno.test("addArticle() and addImage() refuse a conflicting part", () => {
  const s = addImage(addArticle(emptyParts(SESSION), art(1)), img(0));
  assert.equal(code(() => addArticle(s, art(1, "<p>other</p>"))), "replay");
  assert.equal(code(() => addImage(s, img(0, "ef".repeat(32)))), "replay");
});

Deno.test("addImage() and addArticle() refuse an image index the article does not announce", () => {
  const textOnly = addArticle(emptyParts(SESSION), art(0));
  assert.equal(code(() => addImage(textOnly, img(0))), "schema");
  const imageFirst = addImage(emptyParts(SESSION), img(1));
  assert.equal(code(() => addArticle(imageFirst, art(1))), "schema");
});

Deno.test("a published session refuses every further part", () => {
  const s = {
    ...addArticle(emptyParts(SESSION), art(0)),
    published: { at: "2026-01-01T00:00:00Z", path: `output/${SESSION}/index.html`, images: [] },
  };
  assert.equal(isComplete(s), false);
  assert.equal(code(() => addArticle(s, art(0))), "replay");
  assert.equal(code(() => addImage(s, img(0))), "replay");
});

Deno.test("JoinStore round-trips a session and refuses a tampered or misplaced file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new JoinStore(dir);
    const s = addImage(addArticle(emptyParts(SESSION), art(1)), img(0));
    await store.save(s);
    assert.deepEqual(await store.load(SESSION), s);
    const other = crypto.randomUUID();
    assert.deepEqual(await store.load(other), emptyParts(other));
    // a file with an unknown field is refused, not half-read
    await Deno.writeTextFile(`${dir}/${SESSION}.json`, JSON.stringify({ ...s, extra: 1 }));
    await assert.rejects(store.load(SESSION), (e: unknown) => isSaoeError(e));
    // a file copied under another session's name is refused
    await Deno.writeTextFile(`${dir}/${other}.json`, JSON.stringify(s));
    await assert.rejects(
      store.load(other),
      (e: unknown) => isSaoeError(e) && e.code === "parse_error",
    );
    await assert.rejects(
      store.load("../x"),
      (e: unknown) => isSaoeError(e) && e.code === "bad_identifier",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
