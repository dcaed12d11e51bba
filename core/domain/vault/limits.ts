/**
 * Size caps for vault entries, checked before a file is read or parsed, so a
 * planted oversize file cannot exhaust an agent's memory.
 *
 * @module
 */

/** Largest signed capability set (DSSE bytes) published or read, in bytes. */
export const MAX_CAPSET_BYTES = 1024 * 1024;

/** Largest template manifest (DSSE bytes) read, in bytes. */
export const MAX_MANIFEST_BYTES = 16 * 1024;

/** Room for age's header and its 16 bytes per 64 KiB chunk, added to a plaintext cap. */
export const AGE_OVERHEAD_BYTES = 64 * 1024;
