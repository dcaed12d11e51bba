/**
 * The sample photo the README's examples and the demo submit is shipped as a
 * file, and is exactly what its generator makes (so it can be regenerated).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SAMPLE_PHOTO, sampleJpeg } from "../../scripts/demo/sample_image.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("scripts/demo/sample_photo.jpg is the 1600×1200 JPEG sampleJpeg() makes", async () => {
  const shipped = await Deno.readFile(join(REPO, SAMPLE_PHOTO));
  assert.deepEqual(shipped, sampleJpeg());
  assert.deepEqual([...shipped.subarray(0, 2)], [0xff, 0xd8]);
});
