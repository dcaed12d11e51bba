/**
 * Every `saoe` command, in the order `saoe --help` lists them.
 *
 * @module
 */
import type { Command } from "./_support/command.ts";
import { initCommand } from "./commands/init.ts";
import { pipelineCommand } from "./commands/pipeline.ts";
import { submitCommand } from "./commands/submit.ts";
import { statusCommand } from "./commands/status.ts";
import { auditEventsCommand } from "./commands/audit_events.ts";
import { auditVerifyCommand } from "./commands/audit_verify.ts";
import { auditCheckpointCommand } from "./commands/audit_checkpoint.ts";
import { auditProveCommand } from "./commands/audit_prove.ts";
import { auditVerifyProofCommand } from "./commands/audit_verify_proof.ts";
import { capsetExplainCommand } from "./commands/capset_explain.ts";
import { quarantineCommand } from "./commands/quarantine.ts";
import { capsetCheckCommand } from "./commands/capset_check.ts";
import { publishCommand } from "./commands/publish.ts";
import { keysRotateCommand } from "./commands/keys_rotate.ts";
import { keysSignRootCommand } from "./commands/keys_sign_root.ts";
import { keysRevokeCommand } from "./commands/keys_revoke.ts";
import { keysStatusCommand } from "./commands/keys_status.ts";
import { keysRenewCommand } from "./commands/keys_renew.ts";
import { devEnvelopeCommand } from "./commands/dev_envelope.ts";
import { devInjectCommand } from "./commands/dev_inject.ts";
import { attackCommand } from "./commands/attack.ts";
import { witnessInitCommand } from "./commands/witness_init.ts";
import { witnessAddLogCommand } from "./commands/witness_add_log.ts";
import { witnessServeCommand } from "./commands/witness_serve.ts";
import { witnessStatusCommand } from "./commands/witness_status.ts";
import { witnessKeyCommand } from "./commands/witness_key.ts";
import { witnessAttachCommand } from "./commands/witness_attach.ts";
import { versionCommand } from "./commands/version.ts";

/** All registered commands. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  pipelineCommand,
  submitCommand,
  statusCommand,
  auditEventsCommand,
  auditVerifyCommand,
  auditCheckpointCommand,
  auditProveCommand,
  auditVerifyProofCommand,
  capsetExplainCommand,
  quarantineCommand,
  capsetCheckCommand,
  publishCommand,
  keysRotateCommand,
  keysSignRootCommand,
  keysRevokeCommand,
  keysStatusCommand,
  keysRenewCommand,
  devEnvelopeCommand,
  devInjectCommand,
  attackCommand,
  witnessInitCommand,
  witnessAddLogCommand,
  witnessServeCommand,
  witnessStatusCommand,
  witnessKeyCommand,
  witnessAttachCommand,
  versionCommand,
];
