import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { selectCustomers, toCustomerSummary, type CustomerSummary } from './customer-views.ts';

export interface ListCustomersInput {
  limit: number;
  cursor?: string | undefined;
  /** Part of the name (case-insensitive), or a whole customer id. */
  q?: string | undefined;
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The partner's customer organisations, newest first. */
export async function listCustomers(ctx: Ctx, input: ListCustomersInput): Promise<Page<CustomerSummary>> {
  const { partnerId } = partnerCaller(ctx.principal);
  const q = input.q?.trim();
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await selectCustomers(trx, partnerId)
      .$if(Boolean(q), (qb) => qb.where((eb) => eb.or([eb(sql`c.name`, 'ilike', likePattern(q!)), eb('c.id', '=', q!)])))
      .$if(input.cursor !== undefined, (qb) => qb.where('c.id', '<', input.cursor!))
      .orderBy('c.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map(toCustomerSummary), input.limit);
  });
}
