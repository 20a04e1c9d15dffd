import { boot } from '../platform/boot.ts';
import { systemClock } from '../platform/clock.ts';
import type { Ctx } from '../platform/context.ts';
import { PLATFORM_CHAIN, verifyAuditChain, type ChainReport } from './verify-chain.ts';

/**
 * `npm run audit:verify`: verify every audit chain (one per partner, plus the platform's) through the OWNER connection,
 * which reads all chains without row-level security. One line per chain, then the first bad event by id.
 * Exit code 0: intact; 1: a chain has a problem; 2: the check could not run. With the embedded database it uses the
 * server of a running Folio if there is one (never stopping it), or starts its own.
 */
const events = (n: number) => `${n} event${n === 1 ? '' : 's'}`;

const booted = await boot({ migrate: false });
let exitCode = 0;
try {
  const ctx: Ctx = {
    db: booted.owner.db, config: booted.config, log: booted.log,
    principal: { kind: 'system', job: 'audit-verify' }, requestId: null, ip: null, userAgent: null, clock: systemClock,
  };
  const result = await verifyAuditChain(ctx);
  const partners = await booted.owner.db.selectFrom('partners').select(['id', 'name']).execute();
  const names = new Map(partners.map((p) => [p.id, p.name]));
  const label = (c: ChainReport) => (c.chain === PLATFORM_CHAIN ? 'platform' : `${c.chain} (${names.get(c.chain) ?? 'unknown partner'})`);
  for (const c of result.chains) {
    if (c.ok) console.log(`ok       ${label(c)}: ${events(c.checked)}, chain intact`);
    else {
      const p = c.firstProblem!;
      console.log(`PROBLEM  ${label(c)}: ${p.kind} at seq ${p.seq}${p.eventId ? ` (event ${p.eventId})` : ''} after ${events(c.checked)}: ${p.detail}`);
    }
  }
  const bad = result.chains.find((c) => !c.ok);
  if (bad?.firstProblem) {
    const p = bad.firstProblem;
    console.log(
      p.eventId
        ? `FIRST BAD EVENT: ${p.eventId} (chain ${label(bad)}, seq ${p.seq}, ${p.kind})`
        : `FIRST BAD EVENT: none left in chain ${label(bad)}; events from seq ${p.seq} are ${p.kind}`,
    );
    exitCode = 1;
  } else {
    console.log(`audit trail intact: ${events(result.checked)} in ${result.chains.length} chains`);
  }
} catch (err) {
  booted.log.error({ err }, 'the audit trail could not be verified');
  exitCode = 2;
} finally {
  await booted.shutdown();
}
process.exit(exitCode);
