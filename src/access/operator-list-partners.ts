import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { timestamp } from '../platform/schemas.ts';
import { operatorCaller } from './caller.ts';
import { pageOf, type Page } from './paging.ts';

export const partnerSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  status: z.enum(['active', 'suspended']),
  staffCount: z.number().int(),
  customerCount: z.number().int(),
  createdAt: timestamp,
});
export type PartnerSummary = z.infer<typeof partnerSummarySchema>;

/** Every partner on the platform, newest first, with head counts. Operator only. */
export async function operatorListPartners(ctx: Ctx, input: { limit: number; cursor?: string | undefined }): Promise<Page<PartnerSummary>> {
  operatorCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'system' }, async (trx) => {
    const rows = await trx
      .selectFrom('partners as p')
      .select([
        'p.id', 'p.name', 'p.slug', 'p.status', 'p.createdAt',
        sql<number>`(select count(*)::int from users u where u.partner_id = p.id and u.kind = 'staff' and u.status <> 'disabled')`.as('staffCount'),
        sql<number>`(select count(*)::int from customers c where c.partner_id = p.id and c.status <> 'closed')`.as('customerCount'),
      ])
      .$if(input.cursor !== undefined, (qb) => qb.where('p.id', '<', input.cursor!))
      .orderBy('p.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), input.limit);
  });
}
