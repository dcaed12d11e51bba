/**
 * Statement kinds and DSSE wire types.
 *
 * @module
 */

/** The payload type of each kind of signed statement; one verifier serves them all. */
export const PAYLOAD_TYPES = {
  envelope: "application/vnd.saoe.envelope.v1+json",
  plan: "application/vnd.saoe.plan.v1+json",
  capset: "application/vnd.saoe.capset.v1+json",
  templateManifest: "application/vnd.saoe.template-manifest.v1+json",
  toolManifest: "application/vnd.saoe.tool-manifest.v1+json",
  codeManifest: "application/vnd.saoe.code-manifest.v1+json",
  root: "application/vnd.saoe.root.v1+json",
  directory: "application/vnd.saoe.directory.v1+json",
  auditEvent: "application/vnd.saoe.audit-event.v1+json",
  operatorRequest: "application/vnd.saoe.operator-request.v1+json",
} as const;

/** One of the statement payload types. */
export type PayloadType = typeof PAYLOAD_TYPES[keyof typeof PAYLOAD_TYPES];

/** A DSSE signature as decoded from the wire. */
export interface DsseSignature {
  /** Key id hint; never trusted to select the verifying identity. */
  keyid: string;
  /** Raw signature bytes. */
  sig: Uint8Array<ArrayBuffer>;
}

/** A DSSE envelope with its payload decoded from base64 (exact signed bytes). */
export interface DsseEnvelope {
  payloadType: string;
  payload: Uint8Array<ArrayBuffer>;
  signatures: DsseSignature[];
}

/** A public key a verifier trusts, with the key id it is known by. */
export interface PublicKeyEntry {
  keyid: string;
  publicKey: Uint8Array<ArrayBuffer>;
}

/** A set of trusted keys of which `threshold` distinct keys must have signed. */
export interface TrustedKeySet {
  /** Who holds these keys, for messages (e.g. `dispatcher root v2`). */
  name: string;
  keys: readonly PublicKeyEntry[];
  threshold: number;
}
