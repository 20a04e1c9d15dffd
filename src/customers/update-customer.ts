import { sql } from 'kysely';
import { ifMatchMatches } from '../platform/etag.ts';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { customerEtag, customerVersion, findCustomerDetail, moneyHasMoved, type CustomerDetail, type CustomerStatus } from './customer-views.ts';
import { billingColumns, type BillingContactInput } from './billing-contact.ts';
import { lockRenewingSubscriptions, stopRenewalsOfClosedCustomer } from '../subscriptions/stop-renewals-of-closed-customer.ts';

export interface UpdateCustomerInput {
  customerId: string;
  name?: string | undefined;
  currency?: string | undefined;
  status?: CustomerStatus | undefined;
  billingContact?: BillingContactInput | undefined;
  /** The `If-Match` header: when given and stale, nothing is written (412). `*` matches any version. */
  ifMatch?: string | undefined;
}

/**
 * Change a customer's organisation name, currency (only while no money has moved or can move for it: 409 currency_locked), status
 * (active, suspended, closed) or billing contact. Audited as `customer.updated` with each changed field before and after;
 * a request that changes nothing writes nothing. Closing it turns off the auto-renew of its subscriptions
 * (stopRenewalsOfClosedCustomer): a closed customer buys nothing more, renewals included.
 */
export async function updateCustomer(ctx: Ctx, input: UpdateCustomerInput): Promise<{ customer: CustomerDetail; etag: string }> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    // Closing: the subscriptions that would renew are locked before the customer row (see lockRenewingSubscriptions).
    const renewing = input.status === 'closed' ? await lockRenewingSubscriptions(trx, partnerId, input.customerId) : [];
    const version = await customerVersion(trx, partnerId, input.customerId, { lock: true });
    if (version === undefined) throw notFound('Customer');
    if (input.ifMatch !== undefined && !ifMatchMatches(input.ifMatch, customerEtag(input.customerId, version))) {
      throw new DomainError('precondition_failed', 'This customer changed since you read it; reload and try again');
    }
    const before = await trx
      .selectFrom('customers')
      .select(['name', 'currency', 'status', 'billingName', 'billingEmail', 'billingPhone', 'billingAddress'])
      .where('partnerId', '=', partnerId)
      .where('id', '=', input.customerId)
      .executeTakeFirstOrThrow();
    const after = {
      name: input.name ?? before.name,
      currency: input.currency ?? before.currency,
      status: input.status ?? before.status,
      ...billingColumns(input.billingContact ?? {}, before),
    };
    if (after.currency !== before.currency) {
      // Its wallets locked first: a hold or a credit limit set while this checks waits, and then sees the new currency.
      await trx.selectFrom('wallets').select('currency').where('partnerId', '=', partnerId).where('customerId', '=', input.customerId).forUpdate().execute();
    }
    if (after.currency !== before.currency && (await moneyHasMoved(trx, partnerId, input.customerId))) {
      throw new DomainError('currency_locked', `The currency stays ${before.currency}: this customer already has money in it (entries, invoices, subscriptions, payments, a points wallet, points on hold or a credit limit)`, [
        { path: 'currency', message: 'fixed once money has moved' },
      ]);
    }
    const changes = diff(before, after);
    if (Object.keys(changes).length > 0) {
      await trx
        .updateTable('customers')
        .set({ ...after, updatedAt: sql`greatest(clock_timestamp(), updated_at + interval '1 microsecond')` })
        .where('partnerId', '=', partnerId)
        .where('id', '=', input.customerId)
        .execute();
      await recordAudit(trx, ctx, {
        partnerId, customerId: input.customerId, app: 'customer', action: 'customer.updated', targetType: 'customer', targetId: input.customerId, changes,
      });
      if (after.status === 'closed' && before.status !== 'closed') {
        await stopRenewalsOfClosedCustomer(trx, ctx, { partnerId, customerId: input.customerId, actorId, subscriptions: renewing });
      }
    }
    const customer = (await findCustomerDetail(trx, partnerId, input.customerId))!;
    const etag = customerEtag(input.customerId, (await customerVersion(trx, partnerId, input.customerId, { lock: false }))!);
    return { customer, etag };
  });
}
