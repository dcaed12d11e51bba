/**
 * The image files of one session: the staged upload image_filter reads from
 * `uploads/<session>/`, the sanitised result it writes content-addressed to
 * `media/<session>/<sha256>.<ext>`, and the copy deployment verifies before it
 * publishes. Every digest check compares with `constantTimeEqual` against the
 * SHA-256 a signed envelope named.
 *
 * @module
 */
import { join } from "node:path";
import { SaoeError } from "../../primitives/errors.ts";
import { constantTimeEqual, fromHex, sha256, sha256Hex } from "../../primitives/crypto/bytes.ts";
import { type HomeLayout, sessionDir, SHARED_FILE_MODE } from "../../domain/home/layout.ts";
import { writeFileAtomic } from "../../primitives/fs/atomic_write.ts";
import { assertIdentifier } from "../../primitives/ids/patterns.ts";
import { assertRealFolder, ensureRealFolder, readRegularFile } from "./safe_file.ts";
import { IMAGE_FILE_RE, type ImageMediaType, mediaFileName } from "./payloads.ts";

/** Largest staged upload image_filter reads (intake's limit). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
/** Largest sanitised image deployment copies. */
export const MAX_MEDIA_BYTES = 20 * 1024 * 1024;

/**
 * Throws unless `bytes` hash to the hex `expected` digest. The reason code is
 * `content_hash_mismatch` (bytes that do not hash to what a signed statement names).
 *
 * @example
 * ```ts
 * import { assertDigest } from "./media.ts";
 * import { sha256Hex } from "../../primitives/crypto/bytes.ts";
 * const bytes = new TextEncoder().encode("x");
 * await assertDigest(bytes, await sha256Hex(bytes), "the test bytes");
 * ```
 */
export async function assertDigest(
  bytes: Uint8Array<ArrayBuffer>,
  expected: string,
  what: string,
): Promise<void> {
  const want = fromHex(expected, "expected SHA-256");
  if (!constantTimeEqual(await sha256(bytes), want)) {
    throw new SaoeError(
      "content_hash_mismatch",
      `Cannot use ${what}: its bytes do not hash to the SHA-256 ${expected} named in the signed envelope`,
    );
  }
}

/** Options for {@linkcode readUpload}. */
export interface ReadUploadOptions {
  home: HomeLayout;
  session: string;
  /** `<sha256>.<jpg|png>` as named in the signed envelope. */
  file: string;
  /** Hex SHA-256 the signed envelope names. */
  sha256: string;
}

/**
 * Reads a staged upload `uploads/<session>/<file>`: a real session folder, a
 * regular file with one link, at most {@linkcode MAX_UPLOAD_BYTES}, whose bytes
 * hash to the envelope's SHA-256.
 */
export async function readUpload(options: ReadUploadOptions): Promise<Uint8Array<ArrayBuffer>> {
  const file = assertIdentifier(options.file, IMAGE_FILE_RE, "upload file name");
  const folder = sessionDir(options.home, "uploads", options.session);
  await assertRealFolder(folder);
  const path = join(folder, file);
  const bytes = await readRegularFile(path, MAX_UPLOAD_BYTES);
  await assertDigest(bytes, options.sha256, `upload ${path}`);
  return bytes;
}

/** Where {@linkcode writeMedia} put an image. */
export interface WrittenMedia {
  /** `<sha256>.<ext>` inside `media/<session>/`. */
  file: string;
  sha256: string;
  path: string;
}

/** Options for {@linkcode writeMedia}. */
export interface WriteMediaOptions {
  home: HomeLayout;
  session: string;
  bytes: Uint8Array<ArrayBuffer>;
  mediaType: ImageMediaType;
}

/**
 * Writes a sanitised image atomically as `media/<session>/<sha256>.<ext>`,
 * creating the session folder (a real folder, never a planted symlink).
 */
export async function writeMedia(options: WriteMediaOptions): Promise<WrittenMedia> {
  const folder = sessionDir(options.home, "media", options.session);
  await assertRealFolder(options.home.media);
  await ensureRealFolder(folder);
  const digest = await sha256Hex(options.bytes);
  const file = mediaFileName(digest, options.mediaType);
  const path = join(folder, file);
  // content-addressed: a file already there under this name holds these bytes,
  // and an atomic rename over it changes nothing a reader could see
  await writeFileAtomic(path, options.bytes, { mode: SHARED_FILE_MODE });
  return { file, sha256: digest, path };
}

/** Options for {@linkcode readMedia}. */
export interface ReadMediaOptions {
  home: HomeLayout;
  session: string;
  file: string;
  /** Hex SHA-256 from the signed `sanitized_image` envelope. */
  sha256: string;
  mediaType: ImageMediaType;
}

/**
 * Reads `media/<session>/<file>` for publishing: the name must be the
 * content-addressed name of the signed digest and media type, and the bytes must
 * hash to that digest.
 */
export async function readMedia(options: ReadMediaOptions): Promise<Uint8Array<ArrayBuffer>> {
  const expected = mediaFileName(options.sha256, options.mediaType);
  if (options.file !== expected) {
    throw new SaoeError(
      "bad_identifier",
      `Cannot publish image ${
        JSON.stringify(options.file.slice(0, 80))
      }: expected the name ${expected} from its SHA-256 and media type`,
    );
  }
  const folder = sessionDir(options.home, "media", options.session);
  await assertRealFolder(folder);
  const path = join(folder, expected);
  const bytes = await readRegularFile(path, MAX_MEDIA_BYTES);
  await assertDigest(bytes, options.sha256, `image ${path}`);
  return bytes;
}
