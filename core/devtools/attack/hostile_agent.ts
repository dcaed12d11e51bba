/**
 * A hostile agent, the body of `saoe attack sandbox-escape`: spawned with one
 * agent's EXACT command line (the flags the supervisor derives from its
 * verified capset; only the entry module swapped for this file), it tries every
 * escape the sandbox must stop and prints one JSON line `{agent, results:
 * [{name, outcome, message?, created?}]}`, where `outcome` is `"succeeded"` or
 * the error's class name (`NotCapable` when the permission system refused).
 * A control attempt on the agent's own store must succeed, so a run that fails
 * for an unrelated reason cannot pass as a sandbox that held.
 *
 * It imports nothing but `node:` built-ins, so it runs under `--cached-only`
 * and any read grant. Its one argument is a JSON object: `{home, me, agents,
 * connectPort, listenPort, workerOptions}`. It does nothing when imported.
 *
 * `tests/security/sandbox_escape_test.ts` runs the same file for every agent.
 *
 * @module
 */
import { readFileSync } from "node:fs";

interface Config {
  home: string;
  me: string;
  agents: string[];
  connectPort: number;
  listenPort: number;
  workerOptions: boolean;
  /** A symlink planted in its store (to `keys/master.key`) to read through. */
  plantedLink?: string;
  /** Its own folder of a peer's inbox: where it tries a hard link and a FIFO. */
  peerInbox?: string;
  /** A process outside its sandbox whose `/proc` entry it tries to read. */
  foreignPid?: number;
  /** An allocation past its memory limit, in bytes. */
  memoryBytes?: number;
  /** `write`: leave its name in localStorage and caches; `read`: look for another's. */
  channel?: "write" | "read";
}

interface Result {
  name: string;
  outcome: string;
  message?: string;
  /** For link attempts: whether the link path exists afterwards. */
  created?: boolean;
}

async function main(): Promise<void> {
  const config = JSON.parse(Deno.args[0]!) as Config;
  const { home, me } = config;
  const others = config.agents.filter((a) => a !== me);
  const results: Result[] = [];

  function outcomeOf(err: unknown): { outcome: string; message: string } {
    if (err instanceof Error) {
      const name = err instanceof Deno.errors.NotCapable ? "NotCapable" : err.constructor.name;
      return { outcome: name, message: err.message.slice(0, 300) };
    }
    return { outcome: "thrown", message: String(err).slice(0, 300) };
  }

  async function attempt(name: string, action: () => unknown): Promise<void> {
    try {
      await action();
      results.push({ name, outcome: "succeeded" });
    } catch (err: unknown) {
      results.push({ name, ...outcomeOf(err) });
    }
  }

  function existsNoFollow(path: string): boolean {
    try {
      Deno.lstatSync(path);
      return true;
    } catch (err: unknown) {
      // NotCapable here means "cannot even look": the attempt created nothing we could use
      return !(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotCapable);
    }
  }

  async function linkAttempt(name: string, make: () => Promise<void>, path: string): Promise<void> {
    await attempt(name, make);
    results[results.length - 1]!.created = existsNoFollow(path);
  }

  const bytes = new TextEncoder().encode("{}");

  for (const other of others) {
    await attempt(`list another agent's inbox (${other})`, async () => {
      // the leak is a name other than its own folder (an OS sandbox may show that one)
      const seen: string[] = [];
      for await (const e of Deno.readDir(`${home}/agents/${other}/inbox`)) seen.push(e.name);
      if (seen.every((name) => name === me)) throw new Error("saw nothing but its own folder");
    });
    await attempt(
      `read another agent's inbox entry (${other})`,
      () => Deno.readFile(`${home}/agents/${other}/inbox/probe/planted.satl`),
    );
    await attempt(
      `write into another sender's inbox folder of ${other}`,
      () => Deno.writeFile(`${home}/agents/${other}/inbox/probe/forged.satl`, bytes),
    );
    await attempt(
      `read another agent's store (${other})`,
      () => Deno.readFile(`${home}/agents/${other}/store/secret.json`),
    );
    await attempt(
      `write another agent's store (${other})`,
      () => Deno.writeFile(`${home}/agents/${other}/store/secret.json`, bytes),
    );
    await attempt(`list another agent's dead letters (${other})`, async () => {
      for await (const _ of Deno.readDir(`${home}/agents/${other}/dead`)) { /* leak */ }
    });
  }
  await attempt("read keys/master.key", () => Deno.readFile(`${home}/keys/master.key`));
  await attempt("read keys/master.key with node:fs", () => readFileSync(`${home}/keys/master.key`));
  await attempt(
    "read own key file keys/agents/<me>.age",
    () => Deno.readFile(`${home}/keys/agents/${me}.age`),
  );
  await attempt(
    "read the supervisor's key file",
    () => Deno.readFile(`${home}/keys/agents/supervisor.age`),
  );
  await attempt(
    "read the operator credential",
    () => Deno.readFile(`${home}/keys/operator-operator.token`),
  );
  await attempt("list keys/", async () => {
    for await (const _ of Deno.readDir(`${home}/keys`)) { /* leak */ }
  });
  await attempt("read config.json", () => Deno.readFile(`${home}/config.json`));
  await attempt(
    "overwrite own capset in vault/",
    () => Deno.writeFile(`${home}/vault/capsets/${me}.age`, bytes),
  );
  await attempt(
    "create a file in vault/",
    () => Deno.writeFile(`${home}/vault/planted.json`, bytes),
  );
  await attempt(
    "overwrite trust/directory.json",
    () => Deno.writeFile(`${home}/trust/directory.json`, bytes),
  );
  await attempt(
    "add a trust root trust/root/2.root.json",
    () => Deno.writeFile(`${home}/trust/root/2.root.json`, bytes),
  );
  await attempt("open the ledger audit/ledger.db for writing", async () => {
    const file = await Deno.open(`${home}/audit/ledger.db`, { write: true });
    file.close();
  });
  // the viewer reads the ledger by design (its capset's fs.read names audit); no other agent may
  if (me !== "viewer") {
    await attempt(
      "read the ledger audit/ledger.db",
      () => Deno.readFile(`${home}/audit/ledger.db`),
    );
  }
  await attempt("read /proc/self/environ", () => Deno.readFile("/proc/self/environ"));
  await attempt("Deno.env.get", () => Deno.env.get("HOME"));
  await attempt("Deno.env.toObject", () => Deno.env.toObject());
  await attempt(`connect to 127.0.0.1:${config.connectPort}`, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: config.connectPort });
    conn.close();
  });
  await attempt(`listen on 127.0.0.1:${config.listenPort}`, () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: config.listenPort });
    listener.close();
  });
  await attempt("fetch http://127.0.0.1", async () => {
    const res = await fetch(`http://127.0.0.1:${config.connectPort}/`);
    await res.body?.cancel();
  });
  await attempt("spawn /bin/sh with Deno.Command", async () => {
    await new Deno.Command("/bin/sh", { args: ["-c", "id"] }).output();
  });
  await attempt("Deno.dlopen libc (ffi)", () => {
    Deno.dlopen("/lib/x86_64-linux-gnu/libc.so.6", {});
  });
  await attempt("Deno.hostname (sys)", () => Deno.hostname());
  const symlinkPath = `${home}/agents/${me}/store/evil-link`;
  await linkAttempt(
    "Deno.symlink to keys/master.key inside its own store",
    () => Deno.symlink(`${home}/keys/master.key`, symlinkPath),
    symlinkPath,
  );
  const linkPath = `${home}/agents/${me}/inbox/${me}-link.satl`;
  await linkAttempt(
    "Deno.link keys/master.key into its own inbox",
    () => Deno.link(`${home}/keys/master.key`, linkPath),
    linkPath,
  );
  const otherStoreLink = `${home}/agents/${me}/inbox/${me}-store-link.satl`;
  await linkAttempt(
    `Deno.link another agent's store file (${others[0]}) into its own inbox`,
    () => Deno.link(`${home}/agents/${others[0]}/store/secret.json`, otherStoreLink),
    otherStoreLink,
  );
  // a module it may write and load whose string-literal import names a file outside its
  // grants: Deno loads a static import with the module graph
  await attempt("import config.json by a string literal (a module in its own store)", async () => {
    const probe = `${home}/agents/${me}/store/probe_import.js`;
    await Deno.writeTextFile(
      probe,
      `import c from ${JSON.stringify(`file://${home}/config.json`)} with { type: "json" };\n` +
        "export default c;\n",
    );
    const mod = await import(`file://${probe}`);
    if (mod.default === undefined) throw new Error("nothing loaded");
  });
  if (config.plantedLink !== undefined) {
    const planted = config.plantedLink;
    await attempt(
      "read keys/master.key through a symlink planted in its own store",
      () => Deno.readFile(planted),
    );
  }
  if (config.peerInbox !== undefined) {
    const source = `${home}/agents/${me}/store/link-source.satl`;
    const hardLink = `${config.peerInbox}/${me}-hard-link.satl`;
    await linkAttempt(
      "hard-link a file of its own store into a peer's inbox",
      async () => {
        await Deno.writeFile(source, bytes);
        await Deno.link(source, hardLink);
      },
      hardLink,
    );
    const fifo = `${config.peerInbox}/${me}-fifo.satl`;
    await linkAttempt(
      "create a FIFO in a peer's inbox (mkfifo)",
      async () => {
        const out = await new Deno.Command("/usr/bin/mkfifo", { args: [fifo] }).output();
        if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).trim());
      },
      fifo,
    );
  }
  if (config.foreignPid !== undefined) {
    const pid = config.foreignPid;
    await attempt(
      "read /proc of a process outside its sandbox (cmdline)",
      () => Deno.readFile(`/proc/${pid}/cmdline`),
    );
  }
  if (config.memoryBytes !== undefined) {
    const size = config.memoryBytes;
    await attempt(`allocate an ArrayBuffer of ${Math.round(size / 2 ** 20)} MiB`, () => {
      const buffer = new Uint8Array(new ArrayBuffer(size));
      // touch every page: a lazily zeroed allocation must really exist
      for (let i = 0; i < size; i += 4096) buffer[i] = 1;
    });
  }
  if (config.channel === "write") {
    // leaving a message is not the attempt (reading it from another agent is): not recorded
    await Promise.resolve().then(async () => {
      localStorage.setItem("saoe-channel", me);
      const cache = await caches.open("saoe-channel");
      await cache.put("https://saoe.invalid/channel", new Response(me));
    }).catch(() => {});
  } else if (config.channel === "read") {
    await attempt("read what another agent left in localStorage", () => {
      const left = localStorage.getItem("saoe-channel");
      if (left === null || left === me) throw new Error("nothing another agent left");
    });
    await attempt("read what another agent left in caches", async () => {
      const cache = await caches.open("saoe-channel");
      const left = await (await cache.match("https://saoe.invalid/channel"))?.text();
      if (left === undefined || left === me) throw new Error("nothing another agent left");
    });
  }
  if (config.workerOptions) {
    await attempt("start a Worker with more permissions than its own", async () => {
      const url = URL.createObjectURL(
        new Blob(["self.postMessage(1)"], { type: "application/javascript" }),
      );
      const worker = new Worker(url, {
        type: "module",
        deno: { permissions: { read: true, env: true, run: true } },
      } as WorkerOptions);
      try {
        await new Promise((resolve, reject) => {
          worker.onmessage = resolve;
          worker.onerror = (e) => {
            e.preventDefault();
            reject(new Error(e.message));
          };
        });
      } finally {
        worker.terminate();
      }
    });
  }
  // the control: the agent's own store works, so a run where everything fails for
  // an unrelated reason (wrong paths, a crash) cannot pass as a sandbox that held
  await attempt("control: write and read its own store", async () => {
    await Deno.writeTextFile(`${home}/agents/${me}/store/control.txt`, "ok");
    if ((await Deno.readTextFile(`${home}/agents/${me}/store/control.txt`)) !== "ok") {
      throw new Error("control read back something else");
    }
  });

  console.log(JSON.stringify({ agent: me, results }));
}

if (import.meta.main) await main();
