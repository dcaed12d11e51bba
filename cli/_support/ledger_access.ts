/**
 * Opening a home's audit ledger for an operator command, read-only, with one
 * clear message when the pipeline has not written one yet.
 *
 * @module
 */
import { SaoeError } from "../../core/primitives/errors.ts";
import { type HomeLayout, ledgerPath } from "../../core/domain/home/layout.ts";
import { type Ledger, openLedger } from "../../core/domain/ledger/ledger.ts";

/** True when the home has a ledger database. */
export async function ledgerExists(home: HomeLayout): Promise<boolean> {
  return await Deno.lstat(ledgerPath(home)).then(() => true, () => false);
}

/**
 * Opens the ledger read-only (works while the supervisor writes it; never writes,
 * takes no lock); throws `io_error` naming the file when there is none yet.
 *
 * @example
 * ```ts ignore
 * const ledger = await openLedgerForReading(home);
 * try { console.log(ledger.head()); } finally { ledger.close(); }
 * ```
 */
export async function openLedgerForReading(home: HomeLayout): Promise<Ledger> {
  const path = ledgerPath(home);
  if (!(await ledgerExists(home))) {
    throw new SaoeError(
      "io_error",
      `No audit ledger at ${path} yet: it is created when the pipeline first runs (deno task saoe pipeline --home ${home.root})`,
      { file: path },
    );
  }
  return await openLedger({ path, readOnly: true });
}
