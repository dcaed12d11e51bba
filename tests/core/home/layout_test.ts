import assert from "node:assert/strict";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  agentDir,
  agentSubdir,
  HOME_FOLDERS,
  homeLayout,
  inboxDir,
  inboxFromDir,
  sessionDir,
} from "../../../core/domain/home/layout.ts";
import type { HomeLayout } from "../../../core/domain/home/layout.ts";
import { isSaoeError } from "../../../core/primitives/errors.ts";
import { throwsCode } from "../json/_fixtures.ts";
import { ATTACK_STRINGS, SESSION, SESSION_ATTACKS } from "../ids/_fixtures.ts";

const HOME = homeLayout("/srv/saoe");

function assertInside(home: HomeLayout, path: string): void {
  const rel = relative(home.root, path);
  assert.ok(
    rel !== "" && !rel.startsWith("..") && !isAbsolute(rel),
    `${path} is outside ${home.root}`,
  );
  assert.equal(resolve(path), path, `${path} is not normalised`);
}

/** Every helper that takes an agent id, applied to `id` in each position. */
function agentPaths(home: HomeLayout, id: string): (() => string)[] {
  return [
    () => inboxDir(home, id),
    () => inboxFromDir(home, id, "planner"),
    () => inboxFromDir(home, "planner", id),
    () => agentDir(home, id),
    () => agentSubdir(home, id, "store"),
    () => agentSubdir(home, id, "dead"),
  ];
}

Deno.test("homeLayout() places every folder directly under an absolute root", () => {
  assert.equal(HOME.root, "/srv/saoe");
  assert.equal(HOME.config, "/srv/saoe/config.json");
  for (const name of HOME_FOLDERS) assert.equal(HOME[name], join("/srv/saoe", name));
  const relativeHome = homeLayout("some/../rel");
  assert.equal(relativeHome.root, resolve("rel"));
});

Deno.test("layout helpers build the documented paths for valid ids", () => {
  assert.equal(inboxDir(HOME, "planner"), "/srv/saoe/agents/planner/inbox");
  assert.equal(
    inboxFromDir(HOME, "deployment", "text_formatter"),
    "/srv/saoe/agents/deployment/inbox/text_formatter",
  );
  assert.equal(agentDir(HOME, "planner"), "/srv/saoe/agents/planner");
  assert.equal(agentSubdir(HOME, "planner", "quarantine"), "/srv/saoe/agents/planner/quarantine");
  assert.equal(sessionDir(HOME, "output", SESSION), `/srv/saoe/output/${SESSION}`);
  assert.equal(sessionDir(HOME, "uploads", SESSION), `/srv/saoe/uploads/${SESSION}`);
  assert.equal(sessionDir(HOME, "media", SESSION), `/srv/saoe/media/${SESSION}`);
});

Deno.test("layout helpers throw bad_identifier for every attack string used as an agent id", () => {
  for (const attack of ATTACK_STRINGS) {
    for (const build of agentPaths(HOME, attack)) throwsCode(build, "bad_identifier");
  }
});

Deno.test("sessionDir() throws bad_identifier for every attack string used as a session id", () => {
  for (const attack of SESSION_ATTACKS) {
    for (const root of ["uploads", "media", "output"] as const) {
      throwsCode(() => sessionDir(HOME, root, attack), "bad_identifier");
    }
  }
});

Deno.test("layout helpers refuse a folder name smuggled past the types", () => {
  // a JavaScript caller or a cast can pass any string where the types list three names
  const sub = "../../../etc" as "store";
  throwsCode(() => agentSubdir(HOME, "planner", sub), "bad_identifier");
  for (const root of ["../..", "keys", "vault", "root", "constructor"]) {
    throwsCode(() => sessionDir(HOME, root as "output", SESSION), "bad_identifier");
  }
});

Deno.test("layout helpers never return a path outside the home for any generated id", () => {
  // random ids from an alphabet rich in path syntax: each is refused or stays inside
  const alphabet = [
    "a",
    "z",
    "0",
    "_",
    "-",
    ".",
    "/",
    "\\",
    "\u0000",
    "\n",
    " ",
    "A",
    "%",
    "~",
    ":",
  ];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 3000; i++) {
    const length = 1 + (next() % 12);
    const id = Array.from({ length }, () => alphabet[next() % alphabet.length]).join("");
    for (const build of [...agentPaths(HOME, id), () => sessionDir(HOME, "output", id)]) {
      let path: string;
      try {
        path = build();
      } catch (err: unknown) {
        assert.ok(isSaoeError(err, "bad_identifier"), `unexpected ${String(err)}`);
        continue;
      }
      assertInside(HOME, path);
      assert.ok(path.split(sep).includes(id), `${path} does not name ${JSON.stringify(id)}`);
    }
  }
});

Deno.test("layout paths for valid ids resolve inside a real home on disk", async () => {
  const root = await Deno.makeTempDir({ prefix: "saoe_layout_" });
  try {
    const home = homeLayout(root);
    const dirs = [
      inboxFromDir(home, "deployment", "planner"),
      agentSubdir(home, "planner", "store"),
      sessionDir(home, "output", SESSION),
    ];
    for (const dir of dirs) {
      await Deno.mkdir(dir, { recursive: true });
      const real = await Deno.realPath(dir);
      assertInside(homeLayout(await Deno.realPath(root)), real);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
