/**
 * What every attack works with: the live target (its home, verified trust state
 * and exact agent command lines, as the supervisor derives them), a read-only
 * probe of its audit ledger, the URLs of intake and the viewer, the operator's
 * local keys (for crafting), and a factory for scratch pipelines on tampered
 * homes. The attacks never write the target's vault, trust root, keys, config or
 * ledger: they write only what an attacker inside the pipeline could (inbox
 * entries, staged uploads) and HTTP requests.
 *
 * @module
 */
import type { SigningKey } from "../../primitives/crypto/ed25519.ts";
import type { HomeConfig } from "../../domain/home/config.ts";
import type { HomeLayout } from "../../domain/home/layout.ts";
import type { VerifiedHome } from "../../services/supervisor/preflight.ts";
import type { EnvelopeTemplateRef } from "../../domain/validate/envelope.ts";
import { agentSigningKey } from "../dev/signer.ts";
import { templateRefFromVault } from "../dev/template_ref.ts";
import { readOperatorToken } from "../../domain/keys/operator_token.ts";
import { SaoeError } from "../../primitives/errors.ts";
import type { LedgerProbe } from "./ledger_probe.ts";

/** Where an attack run is aimed, and the tools to aim with. */
export interface AttackContext {
  /** The target home (symlink-free). */
  readonly home: HomeLayout;
  readonly config: HomeConfig;
  /** The repository the pipeline runs from (symlink-free). */
  readonly repo: string;
  /** The target's verified trust state and agent commands (the supervisor's preflight). */
  readonly verified: VerifiedHome;
  /** The target's audit ledger, read-only. */
  readonly probe: LedgerProbe;
  /** `http://127.0.0.1:PORT` of intake, when it runs. */
  readonly intakeUrl: string | undefined;
  /** The viewer's URL, when it runs. */
  readonly viewerUrl: string | undefined;
  /** True when `saoe attack` started this pipeline on a temporary home. */
  readonly fresh: boolean;
  /** How long to wait for a refusal event before calling it a breach. */
  readonly timeoutMs: number;
  /** Progress notes (stderr); never the verdicts. */
  log(line: string): void;
  /** An agent's signing key from the target's key store (cached). */
  signer(agent: string): Promise<SigningKey>;
  /** A template's reference from the target's vault (cached). */
  templateRef(id: string): Promise<EnvelopeTemplateRef>;
  /** The secret of the target's first person credential. */
  operatorToken(): Promise<string>;
}

/** Options for {@linkcode createContext}. */
export interface CreateContextOptions {
  home: HomeLayout;
  config: HomeConfig;
  repo: string;
  verified: VerifiedHome;
  probe: LedgerProbe;
  fresh: boolean;
  timeoutMs: number;
  log(line: string): void;
  /** Where intake and the viewer serve (what the running pipeline reports). */
  intakeUrl: string | undefined;
  viewerUrl: string | undefined;
}

/** Builds an {@linkcode AttackContext} with caching key and template lookups. */
export function createContext(options: CreateContextOptions): AttackContext {
  const signers = new Map<string, Promise<SigningKey>>();
  const refs = new Map<string, Promise<EnvelopeTemplateRef>>();
  return {
    ...options,
    signer(agent) {
      let key = signers.get(agent);
      if (key === undefined) {
        key = agentSigningKey(options.home, agent);
        signers.set(agent, key);
      }
      return key;
    },
    templateRef(id) {
      let ref = refs.get(id);
      if (ref === undefined) {
        ref = templateRefFromVault(options.home.vault, id);
        refs.set(id, ref);
      }
      return ref;
    },
    async operatorToken() {
      const record = options.config.operator_tokens.find((t) => t.kind === "person") ??
        options.config.operator_tokens[0];
      if (record === undefined) {
        throw new SaoeError(
          "bad_config",
          "Cannot attack intake: the home has no operator credential",
        );
      }
      return await readOperatorToken(options.home.keys, record.id);
    },
  };
}
