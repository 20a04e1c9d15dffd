import { boot } from '../platform/boot.ts';
import { checkLedger } from './check-ledger.ts';

/**
 * `npm run ledger:check`: prove the books on this database, as the tests do after every money flow: `checkLedger`
 * through the OWNER connection (every partner's rows, no row-level security). One line per problem found (most checks
 * list at most 100 per partner), then a summary. Exit code 0: every invariant holds; 1: a problem was found; 2: the check could not
 * run. With the embedded database it uses the server of a running Folio if there is one (never stopping it), or starts
 * its own. Read-only; on a ledger of 10 million postings it reads for tens of seconds.
 */
const booted = await boot({ migrate: false }).catch((err: unknown) => {
  console.error('the ledger could not be checked: the database is not reachable', err instanceof Error ? err.message : err);
  process.exit(2);
});
let exitCode = 0;
try {
  const problems = await checkLedger(booted.owner.db);
  for (const p of problems) console.log(`PROBLEM  ${p.invariant}: ${p.detail}`);
  if (problems.length > 0) {
    console.log(`ledger NOT sound: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    exitCode = 1;
  } else {
    console.log('ledger sound: every entry balances, every balance equals its postings, every invariant holds');
  }
} catch (err) {
  booted.log.error({ err }, 'the ledger could not be checked');
  exitCode = 2;
} finally {
  await booted.shutdown();
}
process.exit(exitCode);
