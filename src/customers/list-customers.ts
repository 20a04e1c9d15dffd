import { sql, type SqlBool } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { selectCustomers, toCustomerSummary, usableBelowLookup, type CustomerStatus, type CustomerSummary } from './customer-views.ts';

export interface ListCustomersInput {
  limit: number;
  cursor?: string | undefined;
  /** Part of the name or of the billing email, or part of a customer id (ID_PART_MIN_LENGTH characters or more); any case. */
  q?: string | undefined;
  status?: CustomerStatus | undefined;
  currency?: string | undefined;
  /** Only customers whose usable points are below the low-points threshold of their currency... */
  lowPoints?: boolean | undefined;
  /** ...or below this amount (micros, in each customer's own currency). */
  usableBelowMicros?: bigint | undefined;
}

export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The fewest characters of an id a search matches by: shorter, a word such as "cus" or "ab" would match ids at random. */
export const ID_PART_MIN_LENGTH = 4;

/**
 * What an id must contain to match a search, as a LIKE pattern (ids are lower case): any part of it, its prefix
 * (`cus_01kx9`) as well as a piece from its middle or end, as staff paste it from a log or an email. Null when the
 * search cannot be part of an id (a space, an @, a dot; or too short), so names and emails are searched alone.
 */
export function idPartPattern(q: string): string | null {
  if (q.length < ID_PART_MIN_LENGTH || !/^[0-9a-z_]+$/i.test(q)) return null;
  return likePattern(q.toLowerCase());
}

/**
 * The list query of one page (also used by bench/customers.ts to show its plan). The page's ids are chosen first, from
 * the customers alone (newest first by id, along `customers_partner_id`; a low-points filter looks up each one's wallet
 * as it goes), then only those rows get their points, wallet and user count. A search goes through `folio_customers_matching`
 * (migrations 0024, 0069), which can use the trigram indexes (name and billing email; id).
 */
export function customerListQuery(db: Executor, partnerId: string, input: ListCustomersInput) {
  const q = input.q?.trim();
  const low = input.usableBelowMicros !== undefined ? input.usableBelowMicros : input.lowPoints ? null : undefined;
  const pageIds = db
    .selectFrom('customers as c')
    .select('c.id')
    .$if(low !== undefined, (qb) => qb.where(usableBelowLookup(low!)))
    .$if(low === undefined && input.lowPoints === false, (qb) => qb.where(sql<SqlBool>`not (${usableBelowLookup(null)})`))
    .where('c.partnerId', '=', partnerId)
    .$if(Boolean(q), (qb) => qb.where(sql<boolean>`c.id in (select folio_customers_matching(${partnerId}, ${likePattern(q!)}, ${idPartPattern(q!)}))`))
    .$if(input.status !== undefined, (qb) => qb.where('c.status', '=', input.status!))
    .$if(input.currency !== undefined, (qb) => qb.where('c.currency', '=', input.currency!))
    .$if(input.cursor !== undefined, (qb) => qb.where('c.id', '<', input.cursor!))
    .orderBy('c.id', 'desc')
    .limit(input.limit + 1);
  return selectCustomers(db, partnerId).where('c.id', 'in', pageIds).orderBy('c.id', 'desc');
}

/** The partner's customer organisations, newest first, with their points; search and filters combine (AND). */
export async function listCustomers(ctx: Ctx, input: ListCustomersInput): Promise<Page<CustomerSummary>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await customerListQuery(trx, partnerId, input).execute();
    return pageOf(rows.map(toCustomerSummary), input.limit);
  });
}
