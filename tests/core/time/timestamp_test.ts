import assert from "node:assert/strict";
import { DecodeError } from "../../../core/primitives/json/decode.ts";
import { FakeClock } from "../../../core/devtools/testing/fake_clock.ts";
import {
  checkValidity,
  formatTimestamp,
  parseTimestamp,
  timestamp,
} from "../../../core/primitives/time/timestamp.ts";
import { throwsCode } from "../json/_fixtures.ts";

Deno.test("parseTimestamp() accepts UTC timestamps with and without milliseconds", () => {
  assert.equal(parseTimestamp("2026-11-26T20:37:00Z"), Date.UTC(2026, 10, 26, 20, 37, 0));
  assert.equal(parseTimestamp("2026-11-26T20:37:00.123Z"), Date.UTC(2026, 10, 26, 20, 37, 0, 123));
  assert.equal(parseTimestamp("1999-12-31T23:59:59.999Z"), Date.UTC(1999, 11, 31, 23, 59, 59, 999));
});

Deno.test("parseTimestamp() accepts February 29 in leap years only", () => {
  for (const year of [2024, 2028, 2000, 2400]) {
    assert.notEqual(parseTimestamp(`${year}-02-29T00:00:00Z`), undefined, `${year}`);
  }
  for (const year of [2026, 2027, 2100, 1900]) {
    assert.equal(parseTimestamp(`${year}-02-29T00:00:00Z`), undefined, `${year}`);
  }
});

Deno.test("parseTimestamp() refuses dates that do not exist", () => {
  for (
    const date of [
      "2026-02-30",
      "2026-02-31",
      "2026-04-31",
      "2026-06-31",
      "2026-09-31",
      "2026-11-31",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-01-32",
    ]
  ) {
    assert.equal(parseTimestamp(`${date}T00:00:00Z`), undefined, date);
  }
});

Deno.test("parseTimestamp() refuses offsets other than Z and other spellings", () => {
  for (
    const text of [
      "2026-11-26T20:37:00+00:00",
      "2026-11-26T20:37:00-00:00",
      "2026-11-26T20:37:00+01:00",
      "2026-11-26T20:37:00-05:00",
      "2026-11-26T20:37:00",
      "2026-11-26T20:37:00z",
      "2026-11-26t20:37:00Z",
      "2026-11-26 20:37:00Z",
      "2026-11-26T20:37Z",
      "2026-11-26T20:37:00.1Z",
      "2026-11-26T20:37:00.12Z",
      "2026-11-26T20:37:00.1234Z",
      "2026-11-26T20:37:00,123Z",
      "2026-11-26T24:00:00Z",
      "2026-11-26T23:60:00Z",
      "2026-11-26T23:59:60Z",
      "2026-11-26",
      "+002026-11-26T20:37:00Z",
      "20261-11-26T20:37:00Z",
      "2026-11-26T20:37:00Z\n",
      " 2026-11-26T20:37:00Z",
      "2026-1-26T20:37:00Z",
      "1764189420000",
      "",
    ]
  ) {
    assert.equal(parseTimestamp(text), undefined, JSON.stringify(text));
  }
});

Deno.test("formatTimestamp() output parses back to the same instant", () => {
  const ms = Date.UTC(2026, 1, 28, 23, 59, 59, 7);
  assert.equal(formatTimestamp(ms), "2026-02-28T23:59:59.007Z");
  assert.equal(parseTimestamp(formatTimestamp(ms)), ms);
});

Deno.test("timestamp() decodes a valid timestamp and refuses anything else with its path", () => {
  assert.equal(timestamp("2026-01-01T00:00:00Z", "$.issued_at"), "2026-01-01T00:00:00Z");
  for (const value of [1767225600000, null, "2026-02-30T00:00:00Z", "2026-01-01T00:00:00+00:00"]) {
    const err = throwsCode(() => timestamp(value, "$.issued_at"), "parse_error");
    assert.ok(err instanceof DecodeError);
    assert.equal(err.path, "$.issued_at");
  }
});

const ISSUED = Date.parse("2026-03-01T12:00:00Z");
const EXPIRES = Date.parse("2026-03-01T13:00:00Z");
const WINDOW = { issued_at: "2026-03-01T12:00:00Z", expires_at: "2026-03-01T13:00:00Z" };
const SKEW = 120_000;

function check(now: number, skewMs = SKEW, window = WINDOW): void {
  checkValidity(window, { clock: new FakeClock(now), skewMs, what: "test statement" });
}

Deno.test("checkValidity() accepts the whole window including both ends", () => {
  check(ISSUED, 0);
  check(EXPIRES, 0);
  check((ISSUED + EXPIRES) / 2, 0);
});

Deno.test("checkValidity() accepts an expired statement up to the skew and refuses it 1 ms later", () => {
  check(EXPIRES + SKEW);
  const err = throwsCode(() => check(EXPIRES + SKEW + 1), "expired");
  assert.match(err.message, /test statement/);
  throwsCode(() => check(EXPIRES + 1, 0), "expired");
});

Deno.test("checkValidity() accepts a future-dated statement up to the skew and refuses it 1 ms earlier", () => {
  check(ISSUED - SKEW);
  throwsCode(() => check(ISSUED - SKEW - 1), "expired");
  throwsCode(() => check(ISSUED - 1, 0), "expired");
});

Deno.test("checkValidity() follows the clock as it moves", () => {
  const clock = new FakeClock(ISSUED);
  const options = { clock, skewMs: 0, what: "statement" };
  checkValidity(WINDOW, options);
  clock.advance(EXPIRES - ISSUED + 1);
  throwsCode(() => checkValidity(WINDOW, options), "expired");
});

Deno.test("checkValidity() refuses a window that ends at or before it starts, or is malformed", () => {
  const at = WINDOW.issued_at;
  throwsCode(() => check(ISSUED, SKEW, { issued_at: at, expires_at: at }), "parse_error");
  throwsCode(
    () => check(ISSUED, SKEW, { issued_at: WINDOW.expires_at, expires_at: at }),
    "parse_error",
  );
  throwsCode(
    () => check(ISSUED, SKEW, { issued_at: "2026-02-30T00:00:00Z", expires_at: WINDOW.expires_at }),
    "parse_error",
  );
  throwsCode(() => check(ISSUED, SKEW, { issued_at: at, expires_at: "soon" }), "parse_error");
});
