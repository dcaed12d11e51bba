/**
 * The file-queue transport: atomic sends into a receiver's inbox, a watcher with
 * startup and reconciliation scans, the per-entry pipeline (check, quarantine,
 * validate, handle, delete or dead-letter) and dead-letter tools.
 *
 * @module
 */
export { isHiddenName, syncFolder, TEMP_PREFIX, writeFileAtomic } from "../fs/atomic_write.ts";
export * from "./dead_letter.ts";
export * from "./dead_record.ts";
export * from "./depth.ts";
export * from "./entry_check.ts";
export * from "./inbox.ts";
export * from "./paths.ts";
export * from "./process.ts";
export * from "./send.ts";
export * from "./types.ts";
