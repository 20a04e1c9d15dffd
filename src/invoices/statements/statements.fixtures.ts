import { sql } from 'kysely';
import type { Db } from '../../platform/database.ts';
import { inScope } from '../../platform/database.ts';
import { newRatePlanId } from '../../products/rate-plans.repo.ts';
import { creditWallet } from '../../wallet/charge-wallet.ts';

/**
 * Test fixtures for monthly statements. The ledger stamps every posting with the time it was made (`now()`), so a test
 * that needs activity in a past month makes it now, through the real use cases, and then moves those postings' time
 * into that month (`backdatePostings`, owner connection, the append-only trigger skipped for that one statement). Only
 * `posted_at` moves: amounts, balances and entries stay as the use cases wrote them.
 */

/** The newest posting id: postings made after it are the ones a later `backdatePostings` moves. */
export async function lastPostingId(owner: Db): Promise<string> {
  const { rows } = await sql<{ id: string }>`select coalesce(max(id), 0)::text as id from postings`.execute(owner);
  return rows[0]!.id;
}

/** Move the postings made after `afterId` (every posting of their entries) to `at`. */
export async function backdatePostings(owner: Db, input: { afterId: string; at: Date | string }): Promise<number> {
  return owner.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    const { numAffectedRows } = await sql`update postings set posted_at = ${new Date(input.at)} where id > ${input.afterId}::bigint`.execute(trx);
    await sql`update journal_entries set posted_at = ${new Date(input.at)} where id in (select entry_id from postings where id > ${input.afterId}::bigint)`.execute(trx);
    return Number(numAffectedRows ?? 0n);
  });
}

/** A default rate plan (60/60) for the partner's currency, with these rates (price per minute in micros). */
export async function createRatePlan(owner: Db, input: { partnerId: string; currency: string; rates: { prefix: string; description: string | null; perMinuteMicros: bigint }[] }): Promise<string> {
  const id = newRatePlanId();
  await owner.insertInto('ratePlans').values({
    id, partnerId: input.partnerId, name: `Statements ${input.currency}`, currency: input.currency, firstIncrementSeconds: 60, nextIncrementSeconds: 60,
    minimumChargeMicros: 0n, isDefault: true,
  }).execute();
  await owner.insertInto('rates').values(input.rates.map((r) => ({
    ratePlanId: id, partnerId: input.partnerId, prefix: r.prefix, description: r.description, pricePerMinuteMicros: r.perMinuteMicros, costPerMinuteMicros: 0n,
  }))).execute();
  return id;
}

let topUps = 0;
/** A card top-up's ledger entry (Dr card_clearing / Cr points:{c}, kind `top_up`), as a completed top-up posts it. */
export async function topUpPoints(app: Db, input: { partnerId: string; customerId: string; currency?: string; micros: bigint }): Promise<void> {
  await inScope(app, { kind: 'partner', partnerId: input.partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId: input.partnerId, customerId: input.customerId, currency: input.currency ?? 'SGD' },
    amountMicros: input.micros,
    entry: { kind: 'top_up', causeType: 'top_up', causeId: `top_fixture_${topUps++}_${Date.now()}`, description: 'Card top-up', auditEventId: null },
    counterPostings: [{ code: 'card_clearing', amountMicros: input.micros }],
  }));
}
