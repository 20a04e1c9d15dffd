import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import type { TopUpStatus } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { partnerCaller, portalCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { selectTopUps, toStaffTopUpView, toTopUpView, type StaffTopUpView, type TopUpView } from './top-up-views.ts';

export interface ListTopUpsInput {
  limit: number;
  cursor?: string | undefined;
  status?: TopUpStatus | undefined;
}

const CURSOR = /^top_[0-9a-z]{10,40}$/;

function checkCursor(cursor: string | undefined): void {
  if (cursor !== undefined && !CURSOR.test(cursor)) {
    throw new DomainError('validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor from this list' }]);
  }
}

function query(db: Executor, partnerId: string, customerId: string, input: ListTopUpsInput) {
  return selectTopUps(db, partnerId)
    .where('t.customerId', '=', customerId)
    .$if(input.status !== undefined, (q) => q.where('t.status', '=', input.status!))
    .$if(input.cursor !== undefined, (q) => q.where('t.id', '<', input.cursor!))
    .orderBy('t.id', 'desc')
    .limit(input.limit + 1);
}

/** The organisation's top-ups, newest first: succeeded, pending and failed (with the reason), manual and automatic. */
export async function portalListTopUps(ctx: Ctx, input: ListTopUpsInput): Promise<Page<TopUpView>> {
  const caller = portalCaller(ctx.principal);
  checkCursor(input.cursor);
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const rows = await query(trx, caller.partnerId, caller.customerId, input).execute();
    return pageOf(rows.map(toTopUpView), input.limit);
  });
}

/** One of the organisation's top-ups (to follow a pending one). */
export async function portalGetTopUp(ctx: Ctx, input: { topUpId: string }): Promise<TopUpView> {
  const caller = portalCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const row = await selectTopUps(trx, caller.partnerId).where('t.customerId', '=', caller.customerId).where('t.id', '=', input.topUpId).executeTakeFirst();
    if (!row) throw notFound('Top-up');
    return toTopUpView(row);
  });
}

/** A customer's top-ups for partner staff (Customer app); an unknown or another partner's customer is a 404. */
export async function listCustomerTopUps(ctx: Ctx, input: ListTopUpsInput & { customerId: string }): Promise<Page<StaffTopUpView>> {
  const { partnerId } = partnerCaller(ctx.principal);
  checkCursor(input.cursor);
  return inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const customer = await trx.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '=', input.customerId).executeTakeFirst();
    if (!customer) throw notFound('Customer');
    const rows = await query(trx, partnerId, input.customerId, input).execute();
    return pageOf(rows.map(toStaffTopUpView), input.limit);
  });
}
