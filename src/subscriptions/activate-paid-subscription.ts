import assert from 'node:assert/strict';
import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { postCost } from './charge.ts';
import { firstPeriod, isoDay } from './periods.ts';
import { addEvent, notifyCustomer } from './subscriptions.repo.ts';

/**
 * For the Invoices issue: call this in the SAME transaction that records an invoice as fully paid (after marking it
 * `paid`). When the invoice is the unpaid Purchase invoice a `pending_payment` subscription waits on, the subscription
 * becomes active from that day (UTC; the anchor), its purchase charge gets that first period, and the cost of the
 * service is posted (Dr cost:subscription · Cr platform_payable, cost as quoted at purchase). The receivable was posted
 * at purchase and is settled by whatever paid the invoice. Audit `subscription.activated` (on the customer), a history
 * line and an "activated" notice go with it. Returns null when no pending subscription waits on this invoice
 * (any other invoice, or already activated: calling twice is harmless).
 */
export async function activatePaidSubscription(
  trx: Trx,
  ctx: Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent' | 'clock'>,
  input: { partnerId: string; invoiceId: string },
): Promise<{ subscriptionId: string } | null> {
  const found = await trx.selectFrom('subscriptions').select(['id', 'customerId', 'currency'])
    .where('partnerId', '=', input.partnerId).where('pendingInvoiceId', '=', input.invoiceId).where('status', '=', 'pending_payment')
    .executeTakeFirst();
  if (!found) return null;
  // Wallet first, then the subscription: the lock order of every subscription change (no deadlock with the renewal job).
  await lockWallet(trx, { partnerId: input.partnerId, customerId: found.customerId, currency: found.currency });
  const sub = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', input.partnerId).where('id', '=', found.id).forUpdate().executeTakeFirstOrThrow();
  if (sub.status !== 'pending_payment') return null;
  const invoice = await trx.selectFrom('invoices').select(['status', 'number']).where('partnerId', '=', input.partnerId).where('id', '=', input.invoiceId).executeTakeFirstOrThrow();
  assert.equal(invoice.status, 'paid', 'activate a subscription only once its invoice is paid');
  const charge = await trx.selectFrom('subscriptionCharges').selectAll()
    .where('partnerId', '=', input.partnerId).where('subscriptionId', '=', sub.id).where('kind', '=', 'purchase').executeTakeFirstOrThrow();

  const now = ctx.clock.now();
  const period = firstPeriod(now, sub.cycle);
  const auditEventId = await recordAudit(trx, ctx, {
    partnerId: input.partnerId, customerId: sub.customerId, app: ctx.principal.kind === 'customer' ? 'portal' : 'customer',
    action: 'subscription.activated', targetType: 'subscription', targetId: sub.id,
    changes: {
      status: { before: 'pending_payment', after: 'active' }, invoiceNumber: { after: invoice.number },
      currentPeriodStart: { after: isoDay(period.start) }, currentPeriodEnd: { after: isoDay(period.end) },
    },
  });
  await trx.updateTable('subscriptions').set({
    status: 'active', anchorAt: period.anchor, currentPeriodStart: period.start, currentPeriodEnd: period.end, activatedAt: now, updatedAt: now,
  }).where('partnerId', '=', input.partnerId).where('id', '=', sub.id).execute();
  await trx.updateTable('subscriptionCharges').set({ periodStart: period.start, periodEnd: period.end })
    .where('partnerId', '=', input.partnerId).where('id', '=', charge.id).execute();
  await postCost(trx, {
    partnerId: input.partnerId, customerId: sub.customerId, currency: sub.currency, costMicros: BigInt(charge.costMicros),
    entry: { kind: 'subscription_cost', subscriptionId: sub.id, description: 'Subscription started: cost of service', auditEventId },
  });
  await addEvent(trx, {
    sub, kind: 'activated', invoiceId: input.invoiceId, actor: ctx.principal.kind === 'system' ? `system:${ctx.principal.job}` : 'invoice_paid',
    auditEventId, at: now, detail: `Invoice ${invoice.number} paid: active ${isoDay(period.start)} to ${isoDay(period.end)}`,
  });
  const names = await trx.selectFrom('products').select('name').where('partnerId', '=', input.partnerId).where('id', '=', sub.productId).executeTakeFirstOrThrow();
  await notifyCustomer(trx, {
    partnerId: input.partnerId, customerId: sub.customerId, userId: null, kind: 'subscription_activated',
    subject: `${names.name} is active`,
    lines: [`Invoice ${invoice.number} is paid, so ${names.name} is active from ${isoDay(period.start)} to ${isoDay(period.end)}.`],
  });
  return { subscriptionId: sub.id };
}
