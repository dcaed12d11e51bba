/**
 * Every `saoe` command, in the order `saoe --help` lists them.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { versionCommand } from "./commands/version.ts";

/** All registered commands. */
export const COMMANDS: readonly Command[] = [versionCommand];
