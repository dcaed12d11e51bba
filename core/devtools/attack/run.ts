/**
 * Running attacks one after another against one target and collecting every
 * line. An attack that throws (a bug, or the target broke down) produces a
 * `BREACH` line saying so: a run that could not show a boundary held must not
 * pass.
 *
 * @module
 */
import type { AttackContext } from "./context.ts";
import type { Attack, AttackLine } from "./types.ts";

/** The lines of every attack run, and whether every boundary held. */
export interface RunReport {
  lines: AttackLine[];
  /** True when every line is `BLOCKED`. */
  held: boolean;
}

/** Options for {@linkcode runAttacks}. */
export interface RunAttacksOptions {
  ctx: AttackContext;
  attacks: readonly Attack[];
  /** Called with each line as soon as it is known. */
  onLine?(line: AttackLine): void;
}

/** Runs `attacks` in order; never throws for an attack's failure. */
export async function runAttacks(options: RunAttacksOptions): Promise<RunReport> {
  const lines: AttackLine[] = [];
  for (const attack of options.attacks) {
    const started = performance.now();
    let result: AttackLine[];
    try {
      result = await attack.run(options.ctx);
      if (result.length === 0) throw new Error("the attack produced no verdict");
    } catch (err: unknown) {
      result = [{
        attack: attack.name,
        verdict: "BREACH",
        tried: "the whole attack",
        where: `it could not run to a verdict: ${
          (err instanceof Error ? err.message : String(err)).slice(0, 300)
        }`,
        code: "error",
      }];
    }
    options.ctx.log(
      `attack: ${attack.name} took ${Math.round(performance.now() - started)} ms`,
    );
    for (const line of result) {
      lines.push(line);
      options.onLine?.(line);
    }
  }
  return { lines, held: lines.length > 0 && lines.every((l) => l.verdict === "BLOCKED") };
}
