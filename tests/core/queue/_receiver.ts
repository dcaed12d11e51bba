/**
 * A receiving agent for the subprocess test: recovers its quarantine, watches its
 * inbox and prints one line per handled or refused entry, then exits after
 * `count` of them. Run with read/write on its inbox and agent folder only.
 *
 * Usage: `_receiver.ts <inbox> <agent dir> <senders,comma,separated> <count>`
 *
 * @module
 */
import { join } from "node:path";
import { watchInbox } from "../../../core/domain/queue/inbox.ts";
import {
  type PipelineOptions,
  processEntry,
  recoverQuarantine,
} from "../../../core/domain/queue/process.ts";

const [inbox, agentDir, senderList, countText] = Deno.args;
if (inbox === undefined || agentDir === undefined || senderList === undefined) {
  throw new TypeError("usage: _receiver.ts <inbox> <agent dir> <senders> <count>");
}
const expected = Number(countText);
const controller = new AbortController();
let seen = 0;
const note = (line: string): void => {
  console.log(line);
  if (++seen >= expected) controller.abort();
};
const pipeline: PipelineOptions<string> = {
  quarantineDir: join(agentDir, "quarantine"),
  deadDir: join(agentDir, "dead"),
  validate: (entry) => Deno.readTextFile(entry.path),
  handle: (text) => {
    note(`handled ${text}`);
    return Promise.resolve();
  },
  onRefused: (err) => note(`refused ${err.code}`),
};
await recoverQuarantine(pipeline);
const transport = await watchInbox({
  inbox,
  senders: senderList.split(","),
  retryDir: join(agentDir, "retry"),
  reconcileMs: 100,
  signal: controller.signal,
  onEntry: async (path, origin) => {
    await processEntry({ ...pipeline, path, origin });
  },
});
console.log("ready");
await transport.closed;
