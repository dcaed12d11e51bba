/**
 * Development tools (`saoe dev envelope`, `saoe dev inject`, `saoe attack`):
 * crafting signed envelopes with local keys, including deliberately wrong ones,
 * and dropping files into inboxes as a sender would.
 *
 * @module
 */
export * from "./field_edit.ts";
export * from "./template_ref.ts";
export * from "./craft_envelope.ts";
export * from "./signer.ts";
export * from "./inject.ts";
