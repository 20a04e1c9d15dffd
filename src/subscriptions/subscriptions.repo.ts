import type { Ctx, Principal } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { assertIfMatch, versionEtag } from '../platform/etag.ts';
import { recordAudit, type Changes } from '../audit/record-audit.ts';
import { enqueueNotification, type NotificationKind } from '../notifications/enqueue-notification.ts';
import { partnerCaller, portalCaller } from '../access/caller.ts';
import { lockWallet, type WalletState } from '../wallet/wallets.repo.ts';
import type { SubscriptionRow } from './pricing.ts';

/** SQL and small helpers shared by the subscription use cases. */

/** Who acts on a subscription: partner staff / API key (Customer app) or a portal user of the customer. */
export interface SubscriptionCaller {
  partnerId: string;
  /** Set for a portal user: every query is limited to their organisation. */
  customerId: string | null;
  /** The user (or API key) id, for `created_by` and the history. */
  actorId: string;
  /** The portal user to notify (the one who acted); null for staff, who notify the owner. */
  portalUserId: string | null;
  /** The audit app: `customer` for staff (Customer app), `portal` for the user portal. */
  app: 'customer' | 'portal';
}

export function subscriptionCaller(principal: Principal): SubscriptionCaller {
  if (principal.kind === 'customer') {
    const p = portalCaller(principal);
    return { partnerId: p.partnerId, customerId: p.customerId, actorId: p.userId, portalUserId: p.userId, app: 'portal' };
  }
  const s = partnerCaller(principal);
  return { partnerId: s.partnerId, customerId: null, actorId: s.actorId, portalUserId: null, app: 'customer' };
}

/**
 * The customer a sale is made to (a purchase, an add-on or more of one, a reactivation), which must be active: a
 * suspended or closed customer is sold nothing (409 state_conflict), whoever asks.
 */
export async function findBuyingCustomer(trx: Trx, partnerId: string, customerId: string): Promise<CustomerRow> {
  const customer = await findCustomer(trx, partnerId, customerId);
  if (customer.status !== 'active') throw new DomainError('state_conflict', `The customer is ${customer.status}: nothing can be sold to it`);
  return customer;
}

export interface CustomerRow {
  id: string;
  name: string;
  currency: string;
  status: 'active' | 'suspended' | 'closed';
}

/** The partner's customer, or 404. (Purchases queue on the customer's wallet row, not here.) */
export async function findCustomer(trx: Trx, partnerId: string, customerId: string): Promise<CustomerRow> {
  const row = await trx.selectFrom('customers').select(['id', 'name', 'currency', 'status'])
    .where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirst();
  if (!row) throw notFound('Customer');
  return row;
}

/**
 * A subscription of the partner (and of the portal user's organisation), or 404, locked for the transaction AFTER its
 * customer's wallet: the same order as the renewal job (wallets, then subscriptions), so the two never deadlock.
 * Returns the row as read under the lock. With `ifMatch` (the request's If-Match), a subscription changed since the caller
 * read it (another version than its ETag, `versionEtag`) is a 412 before anything is written.
 */
export async function lockWalletAndSubscription(
  trx: Trx, caller: Pick<SubscriptionCaller, 'partnerId' | 'customerId'>, id: string, ifMatch?: string,
): Promise<{ sub: SubscriptionRow; wallet: WalletState }> {
  let q = trx.selectFrom('subscriptions').select(['customerId', 'currency']).where('partnerId', '=', caller.partnerId).where('id', '=', id);
  if (caller.customerId) q = q.where('customerId', '=', caller.customerId);
  const found = await q.executeTakeFirst();
  if (!found) throw notFound('Subscription');
  const wallet = await lockWallet(trx, { partnerId: caller.partnerId, customerId: found.customerId, currency: found.currency });
  const sub = await trx.selectFrom('subscriptions').selectAll()
    .where('partnerId', '=', caller.partnerId).where('customerId', '=', found.customerId).where('id', '=', id)
    .forUpdate().executeTakeFirstOrThrow();
  assertIfMatch(ifMatch, () => versionEtag(sub.version), 'subscription');
  return { sub, wallet };
}

export function assertStatus(sub: SubscriptionRow, allowed: readonly SubscriptionRow['status'][], action: string): void {
  if (!allowed.includes(sub.status)) {
    throw new DomainError('state_conflict', `This subscription is ${sub.status.replace('_', ' ')}: it cannot be ${action}`);
  }
}

export interface EventInput {
  sub: Pick<SubscriptionRow, 'id' | 'partnerId' | 'customerId' | 'currency'>;
  kind: string;
  amountMicros?: bigint | null;
  invoiceId?: string | null;
  detail?: string | null;
  data?: Record<string, unknown>;
  actor: string;
  auditEventId: string | null;
  at: Date;
}

/** One line of the subscription's history (shown in its detail). */
export async function addEvent(trx: Trx, e: EventInput): Promise<void> {
  await trx.insertInto('subscriptionEvents').values({
    partnerId: e.sub.partnerId, customerId: e.sub.customerId, subscriptionId: e.sub.id, kind: e.kind,
    amountMicros: e.amountMicros ?? null, currency: e.sub.currency, invoiceId: e.invoiceId ?? null, detail: e.detail?.slice(0, 500) ?? null,
    data: JSON.stringify(e.data ?? {}), actor: e.actor, auditEventId: e.auditEventId, occurredAt: e.at,
  }).execute();
}

/** The audit event of a subscription change, on the customer (so the portal's Audit section shows it too). */
export async function auditSubscription(
  trx: Trx, ctx: Ctx, caller: SubscriptionCaller, input: { customerId: string; subscriptionId: string; action: string; changes: Changes },
): Promise<string> {
  return recordAudit(trx, ctx, {
    partnerId: caller.partnerId, customerId: input.customerId, app: caller.app, action: input.action,
    targetType: 'subscription', targetId: input.subscriptionId, changes: input.changes,
  });
}

/**
 * Tell the customer: the portal user who acted, else the organisation's owner (its admins when it has no active owner).
 */
export async function notifyCustomer(
  trx: Trx,
  input: { partnerId: string; customerId: string; userId: string | null; kind: NotificationKind; subject: string; lines: readonly string[] },
): Promise<void> {
  const people = trx.selectFrom('users').select(['id', 'email'])
    .where('partnerId', '=', input.partnerId).where('customerId', '=', input.customerId).where('status', '=', 'active');
  let recipients = input.userId ? await people.where('id', '=', input.userId).execute() : [];
  if (recipients.length === 0) recipients = await people.where('customerRole', '=', 'owner').execute();
  if (recipients.length === 0) recipients = await people.where('customerRole', '=', 'admin').execute();
  for (const r of recipients) {
    await enqueueNotification(trx, {
      partnerId: input.partnerId, customerId: input.customerId, userId: r.id, toEmail: r.email, kind: input.kind,
      subject: input.subject, bodyText: input.lines.join('\n'),
    });
  }
}
