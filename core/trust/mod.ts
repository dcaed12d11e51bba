/**
 * The trust root chain, the agent key directory and rollback protection.
 *
 * @module
 */
export * from "./root.ts";
export * from "./chain.ts";
export * from "./files.ts";
export * from "./directory_payload.ts";
export * from "./agent_directory.ts";
export * from "./directory.ts";
export * from "./version_store.ts";
export * from "./version_store_file.ts";
export * from "./version_store_memory.ts";
export { type AtomicWriteOptions, isTempName, writeFileAtomic } from "../fs/atomic_write.ts";
