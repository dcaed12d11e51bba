/**
 * Every `saoe` command, in the order `saoe --help` lists them.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { initCommand } from "./commands/init.ts";
import { pipelineCommand } from "./commands/pipeline.ts";
import { submitCommand } from "./commands/submit.ts";
import { statusCommand } from "./commands/status.ts";
import { auditEventsCommand } from "./commands/audit_events.ts";
import { auditVerifyCommand } from "./commands/audit_verify.ts";
import { auditCheckpointCommand } from "./commands/audit_checkpoint.ts";
import { capsetExplainCommand } from "./commands/capset_explain.ts";
import { quarantineCommand } from "./commands/quarantine.ts";
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
  capsetExplainCommand,
  quarantineCommand,
  versionCommand,
];
