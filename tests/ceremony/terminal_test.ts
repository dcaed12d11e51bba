import assert from "node:assert/strict";
import { type Answer, LineReader, prompt, type Terminal } from "../../cli/terminal/terminal.ts";
import { confirmSha256, sha256Matches } from "../../cli/terminal/confirm_hash.ts";
import { promptPassphrase } from "../../cli/terminal/passphrase.ts";
import { SaoeError } from "../../core/primitives/errors.ts";

/** A terminal fed from `input`; records raw-mode switches and what was written. */
function fakeTerminal(input: string | Uint8Array, options: { hang?: boolean } = {}) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  let at = 0;
  const raw: boolean[] = [];
  const written: string[] = [];
  let listening = 0;
  let interrupt: (() => void) | undefined;
  const terminal: Terminal = {
    reader: new LineReader({
      read(p: Uint8Array) {
        if (at >= bytes.length) {
          return options.hang === true ? new Promise(() => {}) : Promise.resolve(null);
        }
        p[0] = bytes[at++]!;
        return Promise.resolve(1);
      },
    }),
    control: {
      write: (t) => written.push(t),
      setRaw: (r) => raw.push(r),
      onInterrupt(fn) {
        listening++;
        interrupt = fn;
        return () => listening--;
      },
    },
  };
  return {
    terminal,
    raw,
    written,
    listening: () => listening,
    interrupt: () => interrupt?.(),
  };
}

function codeOf(err: unknown): string | undefined {
  return err instanceof SaoeError ? err.code : undefined;
}

Deno.test("prompt() reads a secret in raw mode with backspace editing and restores the terminal", async () => {
  const t = fakeTerminal("pass\x7fsé\x7f\x7fword\r");
  const answer = await prompt(t.terminal, "Passphrase: ", { secret: true });
  assert.deepEqual(answer, { line: "pasword" }, "é is erased as one character");
  assert.deepEqual(t.raw, [true, false]);
  assert.equal(t.listening(), 0, "the SIGINT listener is removed");
});

Deno.test("prompt() answers Ctrl-C in raw mode and Ctrl-D on an empty line as no answer", async () => {
  const c = fakeTerminal("abc\x03def\r");
  assert.deepEqual(await prompt(c.terminal, "? ", { secret: true }), { none: "interrupted" });
  assert.deepEqual(c.raw, [true, false]);
  const d = fakeTerminal("\x04");
  assert.deepEqual(await prompt(d.terminal, "? ", { secret: true }), { none: "eof" });
});

Deno.test("prompt() treats end of input before the newline as no answer, not a half-typed line", async () => {
  const t = fakeTerminal("abcdef");
  assert.deepEqual(await prompt(t.terminal, "? "), { none: "eof" });
});

Deno.test("prompt() resolves as interrupted on SIGINT while the read waits", async () => {
  const t = fakeTerminal("", { hang: true });
  const pending: Promise<Answer> = prompt(t.terminal, "? ");
  t.interrupt();
  assert.deepEqual(await pending, { none: "interrupted" });
  assert.equal(t.listening(), 0);
});

Deno.test("sha256Matches() accepts only the exact hash, case and outer space aside", () => {
  const h = "0123456789abcdef".repeat(4);
  assert.ok(sha256Matches(h, h));
  assert.ok(sha256Matches(h, `  ${h.toUpperCase()}\r\n`));
  assert.ok(!sha256Matches(h, h.slice(0, 63)));
  assert.ok(!sha256Matches(h, `${h.slice(0, 63)}0`));
  assert.ok(!sha256Matches(h, `${h} ${h}`));
  assert.ok(!sha256Matches(h, ""));
});

Deno.test("confirmSha256() refuses a wrong hash, end of input and Ctrl-C with their reason codes", async () => {
  const h = "ab".repeat(32);
  await confirmSha256(fakeTerminal(`${h}\n`).terminal, h);
  await assert.rejects(
    () => confirmSha256(fakeTerminal(`${"cd".repeat(32)}\n`).terminal, h),
    (err) => codeOf(err) === "content_hash_mismatch",
  );
  await assert.rejects(
    () => confirmSha256(fakeTerminal("").terminal, h),
    (err) => codeOf(err) === "not_confirmed",
  );
  const hung = fakeTerminal("", { hang: true });
  const pending = confirmSha256(hung.terminal, h);
  hung.interrupt();
  await assert.rejects(() => pending, (err) => codeOf(err) === "not_confirmed");
});

Deno.test("promptPassphrase() refuses two different entries and an empty one", async () => {
  await assert.rejects(
    () =>
      promptPassphrase(fakeTerminal("one passphrase\rtwo passphrase\r").terminal, {
        what: "x",
        confirm: true,
      }),
    (err) => codeOf(err) === "bad_credential",
  );
  await assert.rejects(
    () => promptPassphrase(fakeTerminal("\r").terminal, { what: "x", confirm: false }),
    (err) => codeOf(err) === "bad_credential",
  );
});
