/**
 * The witness's HTTP handler: `POST /add-checkpoint` exactly as
 * c2sp.org/tlog-witness specifies it, and one read extension,
 * `GET /checkpoint?origin=<urlencoded>`, answering the latest checkpoint the
 * witness cosigned for that origin as a full signed note (the log's signature
 * lines it verified, then its own cosignature), which `saoe audit verify` uses.
 *
 * An add-checkpoint request is read (at most 64 KiB, refused from
 * `Content-Length` before reading), parsed (400), its origin looked up (404),
 * its log signature verified against the log's key (403), then decided twice:
 * once before signing, so only a checkpoint that passed every check is ever
 * signed, and again inside the `BEGIN IMMEDIATE` transaction that stores it
 * (`witness_db.ts`), so a request that lost a race to another one, in this
 * process or another, is answered 409 and not cosigned. The 200 answer is sent
 * only after that transaction committed.
 *
 * Every answer has a `Content-Type`, `Cache-Control: no-store` and
 * `X-Content-Type-Options: nosniff`; each decision is one line to `log`.
 *
 * @module
 */
import { isSaoeError } from "../../primitives/errors.ts";
import { jsonText } from "../../primitives/json/inert_json.ts";
import { type Clock, systemClock } from "../../primitives/time/clock.ts";
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import {
  ed25519Verifier,
  formatNote,
  type NoteSignature,
  verifyNote,
} from "../../primitives/note/note.ts";
import { parseVkey } from "../../primitives/note/vkey.ts";
import { cosignCheckpoint } from "../../primitives/note/cosignature.ts";
import {
  type AddCheckpointRequest,
  type CheckpointDecision,
  type CosignedState,
  decideCheckpoint,
  MAX_REQUEST_BYTES,
  parseAddCheckpoint,
  WitnessRefusal,
} from "./add_checkpoint.ts";
import { isBusy, type LogRecord, type WitnessDb } from "./witness_db.ts";
import { readCapped } from "./read_capped.ts";
import { ADD_CHECKPOINT_PATH, CHECKPOINT_PATH, SIZE_CONTENT_TYPE } from "./protocol.ts";

const TEXT = "text/plain; charset=utf-8";

/** What the handler needs of an opened state. */
export interface WitnessHandlerState {
  name: string;
  key: SigningKey;
  db: WitnessDb;
}

/** Options for {@linkcode createWitnessHandler}. */
export interface WitnessHandlerOptions {
  state: WitnessHandlerState;
  clock?: Clock;
  /** Receives one line per decision (the server writes it to stderr). */
  log?: (line: string) => void;
}

function answer(
  status: number,
  body: string,
  type = TEXT,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": type,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

function refusal(status: number, message: string, headers: Record<string, string> = {}): Response {
  return answer(status, `${message}\n`, TEXT, headers);
}

function readBody(request: Request): Promise<Uint8Array> {
  return readCapped(
    request,
    MAX_REQUEST_BYTES,
    () => new WitnessRefusal(413, `The request body exceeds ${MAX_REQUEST_BYTES} bytes`),
  );
}

function storedState(log: LogRecord): CosignedState {
  return { size: log.size, ...(log.root !== undefined ? { root: log.root } : {}) };
}

/**
 * Builds the request handler over an opened state.
 *
 * @example
 * ```ts ignore
 * import { openWitnessState } from "./state.ts";
 * const state = await openWitnessState("/srv/witness");
 * Deno.serve({ hostname: "127.0.0.1", port: 8075 }, createWitnessHandler({ state }));
 * ```
 */
export function createWitnessHandler(
  options: WitnessHandlerOptions,
): (request: Request) => Promise<Response> {
  const { state } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const note = (status: number, what: string, fields: Record<string, unknown> = {}) =>
    log(`witness: ${status} ${what} ${jsonText(fields)}`);

  const respond = (
    decision: Exclude<CheckpointDecision, { kind: "accept" }>,
    request: AddCheckpointRequest,
  ): Response => {
    const { origin, size } = request.checkpoint;
    const fields = { origin, old: request.oldSize, size };
    switch (decision.kind) {
      case "conflict":
        note(409, "conflict", { ...fields, cosigned: decision.size });
        return answer(409, `${decision.size}\n`, SIZE_CONTENT_TYPE);
      case "fork":
        note(409, "fork", fields);
        try {
          state.db.recordFork(
            origin,
            size,
            request.checkpoint.rootHash,
            request.noteText,
            clock.now(),
          );
        } catch (err: unknown) {
          // the refusal stands even when the evidence cannot be kept
          note(500, "fork not recorded", { origin, size, message: String(err).slice(0, 200) });
        }
        return refusal(
          409,
          `Checkpoint refused: the witness cosigned another root hash for ${origin} at size ${size} (a fork of the log)`,
        );
      case "inconsistent":
        note(422, "inconsistent", fields);
        return refusal(
          422,
          `Checkpoint refused: the consistency proof does not prove the tree of size ${request.oldSize} the witness cosigned a prefix of this one`,
        );
    }
  };

  async function addCheckpoint(request: Request): Promise<Response> {
    const parsed = parseAddCheckpoint(await readBody(request));
    const { origin, size, rootHash } = parsed.checkpoint;
    const known = state.db.log(origin);
    if (known === undefined) {
      note(404, "unknown origin", { origin });
      return refusal(
        404,
        `Unknown log origin ${
          jsonText(origin)
        }: this witness cosigns only the logs its operator added (saoe witness add-log)`,
      );
    }
    const logKey = parseVkey(known.vkey);
    try {
      await verifyNote(parsed.note, [ed25519Verifier(logKey.name, logKey.publicKey)]);
    } catch (err: unknown) {
      if (!isSaoeError(err)) throw err;
      note(403, "bad signature", { origin, size });
      return refusal(
        403,
        `Checkpoint refused: no signature verifies with the key this witness trusts for ${
          jsonText(origin)
        }`,
      );
    }
    const first = decideCheckpoint(storedState(known), parsed);
    if (first.kind !== "accept") return respond(first, parsed);
    // only a checkpoint that passed every check is signed; the transaction decides again
    const timestamp = Math.max(Math.floor(clock.now() / 1000), known.cosignedAt ?? 0);
    const cosignature = await cosignCheckpoint(parsed.note.text, {
      name: state.name,
      key: state.key,
      timestamp,
    });
    const logSignatures = parsed.note.signatures.filter((s: NoteSignature) =>
      s.name === logKey.name && s.keyId === logKey.keyId
    );
    const stored = formatNote({
      text: parsed.note.text,
      signatures: [...logSignatures, cosignature],
    });
    const decision = state.db.commit<CheckpointDecision>(
      origin,
      (row) =>
        row === undefined || row.vkey !== known.vkey
          ? { kind: "inconsistent" }
          : decideCheckpoint(storedState(row), parsed),
      { size, root: rootHash, note: stored, cosignedAt: timestamp },
    );
    if (decision.kind !== "accept") return respond(decision, parsed);
    note(200, "cosigned", { origin, old: parsed.oldSize, size, time: timestamp });
    // the answer is the cosignature line alone: the note's signature block minus the text
    const line = formatNote({ text: parsed.note.text, signatures: [cosignature] })
      .slice(parsed.note.text.length + 1);
    return answer(200, line);
  }

  function latest(url: URL): Response {
    const origin = url.searchParams.get("origin");
    if (origin === null || origin === "") {
      return refusal(400, "Missing the origin: GET /checkpoint?origin=<urlencoded origin>");
    }
    const known = state.db.log(origin);
    if (known?.note === undefined) {
      return refusal(
        404,
        known === undefined
          ? `Unknown log origin ${jsonText(origin)}`
          : `No checkpoint cosigned for ${jsonText(origin)} yet`,
      );
    }
    return answer(200, known.note);
  }

  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    try {
      if (url.pathname === ADD_CHECKPOINT_PATH) {
        if (request.method !== "POST") {
          await request.body?.cancel().catch(() => {});
          return refusal(405, "Use POST for /add-checkpoint", { allow: "POST" });
        }
        return await addCheckpoint(request);
      }
      if (url.pathname === CHECKPOINT_PATH) {
        if (request.method !== "GET") {
          await request.body?.cancel().catch(() => {});
          return refusal(405, "Use GET for /checkpoint", { allow: "GET" });
        }
        return latest(url);
      }
      await request.body?.cancel().catch(() => {});
      return refusal(404, `No such endpoint: ${ADD_CHECKPOINT_PATH} and ${CHECKPOINT_PATH} exist`);
    } catch (err: unknown) {
      if (err instanceof WitnessRefusal) {
        note(err.status, "refused", { message: err.message.slice(0, 300) });
        return refusal(err.status, err.message);
      }
      if (isBusy(err)) {
        note(503, "busy", {});
        return refusal(503, "The witness database is busy; retry", { "retry-after": "1" });
      }
      const why = err instanceof Error ? err.message : String(err);
      note(500, "error", { message: why.slice(0, 300) });
      return refusal(500, "Internal witness error");
    }
  };
}
