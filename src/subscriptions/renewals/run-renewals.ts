import { sql } from 'kysely';
import type { Principal } from '../../platform/context.ts';
import { inScope, type Trx } from '../../platform/database.ts';
import { isCurrency, type Currency, moneyText } from '../../money/money.ts';
import type { TaxCategory } from '../../products/catalog.db-types.ts';
import { discountsFor, type DiscountRequest } from '../../discounts/discounts.repo.ts';
import { discountedLine, quoteOf, type ChargeLine } from '../pricing.ts';
import {
  enqueueNotificationsBulk, insertSubscriptionEvents, recipientsOf, recordAuditBulk, systemActor,
  type BulkNotificationInput, type SubscriptionEventRow, type SystemAuditInput,
} from './bulk-writes.ts';
import { renewGroups, pushTo, RENEWAL_JOB_LABEL, type CardTopUp, type GroupKey } from './renew-groups.ts';
import { settleRenewalTopUp, type RenewalActor, type RenewalDeps } from './renewal-by-card.ts';
import { addDays, NOTICE_LEAD_DAYS, REACTIVATION_DAYS, RENEWAL_LEAD_DAYS, utcDate } from './renewal-dates.ts';
import { usableMicrosSql } from '../../wallet/wallets.repo.ts';

/**
 * The scheduled renewal run (issue 4 §2), run by the worker every hour (renewals-tasks.ts) and callable from tests with a
 * moved clock (`asOf`). Each step is idempotent and restartable: a crash loses at most the batch in flight (one
 * transaction), and a rerun, or a second run at the same time, finds what was done and does nothing twice.
 * 0. Closed customers: a subscription of a closed customer that still renews (a purchase that raced the close) has its
 *    auto-renew turned off, as closing does (docs/adr/0038); the renewals below never renew a closed customer's.
 * 1. Renewals: every auto-renewing active subscription whose renewal date (expiry - 7 days) has come, by groups (one
 *    organisation, one expiry day: all-or-nothing), `batchSize` groups per transaction (renew-groups.ts).
 * 2. Renewal by card: the short groups with renew-by-card and a saved card are charged, one by one, outside any transaction
 *    (renewal-by-card.ts).
 * 3. Notices: "renewal coming" for the groups renewing in the next 7 days, once per subscription and period
 *    (`renewal_notice_for`), one message per group.
 * 4. Expiry: active subscriptions past their period end (not renewed: auto-renew off, renewal failed, card pending) expire.
 * 5. Termination: expired subscriptions not reactivated within 28 days are terminated on day 29 (no refund: nothing is left).
 * Every step writes its history, audit (system actor, the customer set so the portal's audit shows it) and notifications
 * in the same transaction as the change.
 */
export const RENEWAL_ACTOR: RenewalActor = {
  actor: systemActor(RENEWAL_JOB_LABEL),
  audit: { principal: { kind: 'system', job: RENEWAL_JOB_LABEL } satisfies Principal, requestId: null, ip: null, userAgent: null },
};

export interface RenewalRunOptions {
  asOf: Date;
  /** Groups (organisations) per transaction; 1..5000. */
  batchSize?: number;
}

export interface RenewalRunResult {
  renewedGroups: number;
  renewedSubscriptions: number;
  failedGroups: number;
  failedSubscriptions: number;
  cardRenewedGroups: number;
  cardPendingGroups: number;
  cardFailedGroups: number;
  noticesSent: number;
  expired: number;
  terminated: number;
  /** Subscriptions of closed customers whose auto-renew the run turned off (step 0). */
  stoppedForClosedCustomers: number;
}

const DEFAULT_BATCH = 500;
/** Rows per statement for the notice, expiry and termination steps. */
const STEP_BATCH = 2000;
/** Group keys read per round (keyset pages), so a huge day never loads every key at once. */
const KEY_PAGE = 20_000;
/** Passes over the due groups in one run (catching up periods the job missed), at most. */
const MAX_PASSES = 12;

export async function runRenewals(deps: RenewalDeps, options: RenewalRunOptions): Promise<RenewalRunResult> {
  const { asOf } = options;
  const batchSize = Math.min(Math.max(Math.trunc(options.batchSize ?? DEFAULT_BATCH), 1), 5000);
  const result: RenewalRunResult = {
    renewedGroups: 0, renewedSubscriptions: 0, failedGroups: 0, failedSubscriptions: 0, cardRenewedGroups: 0, cardPendingGroups: 0, cardFailedGroups: 0,
    noticesSent: 0, expired: 0, terminated: 0, stoppedForClosedCustomers: 0,
  };

  // 0. Nothing of a closed customer renews: what still would (it raced the close) stops first.
  for (;;) {
    const n = await withRetry(() => inScope(deps.db, { kind: 'system' }, (trx) => stopRenewalsOfClosedCustomers(trx, asOf, STEP_BATCH)));
    result.stoppedForClosedCustomers += n;
    if (n < STEP_BATCH) break;
  }

  // 1. Renewals, by keyset pages of group keys, `batchSize` groups per transaction. A renewed period that is itself due
  //    already (the job did not run for longer than a period) is renewed by another pass, before anything expires.
  const cards = new Map<string, CardTopUp>();
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const renewedBefore = result.renewedGroups;
    let after: GroupKey | null = null;
    for (;;) {
      const keys = await dueGroupKeys(deps, asOf, after, KEY_PAGE);
      if (keys.length === 0) break;
      after = keys[keys.length - 1]!;
      for (let i = 0; i < keys.length; i += batchSize) {
        const chunk = keys.slice(i, i + batchSize);
        const outcomes = await withRetry(() => inScope(deps.db, { kind: 'system' }, (trx) =>
          renewGroups(trx, chunk, { asOf, actor: RENEWAL_ACTOR.actor, retryFailed: false, onShort: 'fail', cardGateway: deps.gateway.name })));
        for (const o of outcomes) {
          if (o.status === 'renewed') {
            result.renewedGroups++;
            result.renewedSubscriptions += o.subscriptionIds.length;
          } else if (o.status === 'failed') {
            result.failedGroups++;
            result.failedSubscriptions += o.subscriptionIds.length;
          } else if (o.card) cards.set(o.card.topUpId, o.card);
        }
      }
      if (keys.length < KEY_PAGE) break;
    }
    if (result.renewedGroups === renewedBefore) break;
  }

  // 2. Renewal by card, one group at a time (each charge outside any transaction).
  for (const card of cards.values()) {
    try {
      const settled = await settleRenewalTopUp(deps, RENEWAL_ACTOR, card, { asOf, retryFailed: false });
      if (settled.outcome === 'renewed') {
        result.cardRenewedGroups++;
        result.renewedGroups++;
        result.renewedSubscriptions += settled.group?.subscriptionIds.length ?? 0;
      } else if (settled.outcome === 'pending') result.cardPendingGroups++;
      else {
        result.cardFailedGroups++;
        result.failedGroups++;
        result.failedSubscriptions += settled.group?.subscriptionIds.length ?? 0;
      }
    } catch (err) {
      // One customer's trouble never stops the others; the pending top-up is retried by the next run.
      deps.log.error({ err, topUpId: card.topUpId }, 'renewal by card failed; retried by the next run');
    }
  }

  // 3-5. Notices, expiry, termination: bounded batches until none is left.
  for (;;) {
    const n = await withRetry(() => inScope(deps.db, { kind: 'system' }, (trx) => sendRenewalNotices(trx, asOf, STEP_BATCH)));
    result.noticesSent += n;
    if (n < STEP_BATCH) break;
  }
  for (;;) {
    const n = await withRetry(() => inScope(deps.db, { kind: 'system' }, (trx) => expireSubscriptions(trx, asOf, STEP_BATCH)));
    result.expired += n;
    if (n < STEP_BATCH) break;
  }
  for (;;) {
    const n = await withRetry(() => inScope(deps.db, { kind: 'system' }, (trx) => terminateExpired(trx, asOf, STEP_BATCH)));
    result.terminated += n;
    if (n < STEP_BATCH) break;
  }
  if (Object.values(result).some((v) => v > 0)) deps.log.info({ ...result, asOf: asOf.toISOString() }, 'subscription renewal run');
  return result;
}

/** The due groups after `after` (keyset order), read without locks; each batch checks them again under its locks. */
async function dueGroupKeys(deps: RenewalDeps, asOf: Date, after: GroupKey | null, limit: number): Promise<GroupKey[]> {
  return inScope(deps.db, { kind: 'system' }, async (trx) => {
    const { rows } = await sql<{ partnerId: string; customerId: string; currency: string; periodEnd: Date }>`
      select distinct s.partner_id as "partnerId", s.customer_id as "customerId", s.currency, s.current_period_end as "periodEnd"
      from subscriptions s
      where s.status = 'active' and s.auto_renew and s.renewal_failed_at is null
        and s.current_period_end <= ${addDays(asOf, RENEWAL_LEAD_DAYS)}
        and (${after === null}::boolean or (s.partner_id, s.customer_id, s.currency, s.current_period_end)
          > (${after?.partnerId ?? ''}, ${after?.customerId ?? ''}, ${after?.currency ?? ''}, ${after?.periodEnd ?? asOf}::timestamptz))
      order by 1, 2, 3, 4
      limit ${limit}`.execute(trx);
    return rows;
  });
}

/** Retry a batch that lost a deadlock or a serialisation race (it rolled back whole, so it is safe to run again). */
async function withRetry<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== '40P01' && code !== '40001')) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20 * i));
    }
  }
}

function currencyOf(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`unknown currency ${code}`);
  return code;
}

interface NoticeRow {
  id: string;
  renewByCard: boolean;
  partnerId: string;
  customerId: string;
  currency: string;
  currentPeriodEnd: Date;
  quantity: number;
  productName: string;
  variantName: string;
  priceId: string;
  productId: string;
  variantId: string;
  unitPriceMicros: string;
  taxCategory: TaxCategory;
  /** At the quantity they renew with (0: not renewed). */
  addOns: { priceId: string; productId: string; variantId: string; quantity: number; unitPriceMicros: string; taxCategory: TaxCategory }[];
  taxRateBps: number;
  usableMicros: string | null;
}

/**
 * What each subscription's renewal will charge, tax included, as the renewal itself prices it (renew-groups.ts): today's
 * catalog prices, add-ons at the quantity they renew with, the discount in force on the first day of the period it pays
 * for (docs/adr/0016), tax once on the charge's taxable sum.
 */
async function renewalTotals(trx: Trx, rows: readonly NoticeRow[]): Promise<Map<string, bigint>> {
  const requests: DiscountRequest[] = [];
  for (const r of rows) {
    const day = utcDate(r.currentPeriodEnd);
    requests.push({ partnerId: r.partnerId, customerId: r.customerId, priceId: r.priceId, day });
    for (const a of r.addOns) requests.push({ partnerId: r.partnerId, customerId: r.customerId, priceId: a.priceId, day });
  }
  const found = await discountsFor(trx, requests);
  let at = 0;
  const totals = new Map<string, bigint>();
  for (const r of rows) {
    const currency = currencyOf(r.currency);
    const line = (kind: 'subscription' | 'add_on', p: { priceId: string; productId: string; variantId: string; unitPriceMicros: string; taxCategory: TaxCategory }, quantity: number): ChargeLine => ({
      kind, description: '', amountMicros: BigInt(p.unitPriceMicros) * BigInt(quantity), costMicros: 0n, taxable: p.taxCategory === 'standard',
      taxCategory: p.taxCategory, priceId: p.priceId, productId: p.productId, variantId: p.variantId, quantity, unitPriceMicros: BigInt(p.unitPriceMicros),
    });
    const lines = [discountedLine(line('subscription', r, r.quantity), found[at++] ?? null, currency)];
    for (const a of r.addOns) {
      const terms = found[at++] ?? null;
      if (a.quantity > 0) lines.push(discountedLine(line('add_on', a, a.quantity), terms, currency));
    }
    totals.set(r.id, quoteOf(currency, lines, r.taxRateBps).totalMicros);
  }
  return totals;
}

/**
 * "Renewal coming", 7 days before each renewal: the subscriptions renewing within NOTICE_LEAD_DAYS, not told yet for this
 * period, are marked (`renewal_notice_for` = their period end) and their owner gets one message per group, with the
 * estimated total (current prices, pending add-on quantities, tax) and whether the points cover it today.
 */
export async function sendRenewalNotices(trx: Trx, asOf: Date, limit: number): Promise<number> {
  const { rows } = await sql<NoticeRow>`
    with marked as (
      update subscriptions s set renewal_notice_for = s.current_period_end, updated_at = ${asOf}
      from (
        select id from subscriptions
        where status = 'active' and auto_renew and renewal_failed_at is null
          and current_period_end > ${addDays(asOf, RENEWAL_LEAD_DAYS)}
          and current_period_end <= ${addDays(asOf, RENEWAL_LEAD_DAYS + NOTICE_LEAD_DAYS)}
          and renewal_notice_for is distinct from current_period_end
        order by id limit ${limit}
        for update skip locked
      ) due
      where s.id = due.id
      returning s.id, s.partner_id, s.customer_id, s.currency, s.current_period_end, s.quantity, s.price_id, s.product_id, s.variant_id, s.renew_by_card
    )
    select m.id, m.renew_by_card as "renewByCard", m.partner_id as "partnerId", m.customer_id as "customerId", m.currency, m.current_period_end as "currentPeriodEnd",
      m.quantity, p.name as "productName", v.name as "variantName", m.price_id as "priceId", m.product_id as "productId", m.variant_id as "variantId",
      pp.price_micros::text as "unitPriceMicros", p.tax_category as "taxCategory", coalesce(ps.tax_rate_bps, 0) as "taxRateBps",
      coalesce((
        select json_agg(json_build_object('priceId', a.price_id, 'productId', a.product_id, 'variantId', a.variant_id,
                 'quantity', coalesce(a.pending_quantity, a.quantity), 'unitPriceMicros', ap.price_micros::text, 'taxCategory', aprod.tax_category)
                 order by a.created_at, a.id)
        from subscription_add_ons a
        join product_prices ap on ap.partner_id = a.partner_id and ap.id = a.price_id
        join products aprod on aprod.partner_id = a.partner_id and aprod.id = a.product_id
        where a.partner_id = m.partner_id and a.subscription_id = m.id and a.removed_at is null), '[]'::json) as "addOns",
      (select ${usableMicrosSql(asOf, 'w', 'la')}::text
        from wallets w join ledger_accounts la on la.id = w.points_account_id
        where w.partner_id = m.partner_id and w.customer_id = m.customer_id and w.currency = m.currency) as "usableMicros"
    from marked m
    join product_prices pp on pp.partner_id = m.partner_id and pp.id = m.price_id
    join product_variants v on v.partner_id = m.partner_id and v.id = m.variant_id
    join products p on p.partner_id = m.partner_id and p.id = m.product_id
    left join partner_settings ps on ps.partner_id = m.partner_id
    order by m.partner_id, m.customer_id, m.current_period_end, m.id`.execute(trx);
  if (rows.length === 0) return 0;
  const totals = await renewalTotals(trx, rows);

  const groups = new Map<string, NoticeRow[]>();
  for (const r of rows) {
    const key = `${r.partnerId}|${r.customerId}|${r.currency}|${r.currentPeriodEnd.toISOString()}`;
    pushTo(groups, key, r);
  }
  const byPartner = new Map<string, NoticeRow[][]>();
  for (const g of groups.values()) pushTo(byPartner, g[0]!.partnerId, g);
  for (const [partnerId, partnerGroups] of byPartner) {
    const recipients = await recipientsOf(trx, partnerId, [...new Set(partnerGroups.map((g) => g[0]!.customerId))]);
    const notifications: BulkNotificationInput[] = [];
    const events: SubscriptionEventRow[] = [];
    for (const g of partnerGroups) {
      const first = g[0]!;
      const currency = currencyOf(first.currency);
      let total = 0n;
      const lines: string[] = [];
      for (const r of g) {
        const sub = totals.get(r.id)!;
        total += sub;
        lines.push(`- ${r.productName} – ${r.variantName} x ${r.quantity}: ${moneyText(sub, currency)}`);
        events.push({
          partnerId, customerId: r.customerId, subscriptionId: r.id, kind: 'renewal_notice_sent', amountMicros: null, currency: r.currency, invoiceId: null,
          detail: `Renewal notice sent: renews on ${utcDate(addDays(r.currentPeriodEnd, -RENEWAL_LEAD_DAYS))}`, data: JSON.stringify({ periodEnd: r.currentPeriodEnd.toISOString() }),
          actor: `system:${RENEWAL_JOB_LABEL}`, auditEventId: null, occurredAt: asOf,
        });
      }
      const renewsOn = utcDate(addDays(first.currentPeriodEnd, -RENEWAL_LEAD_DAYS));
      const usable = first.usableMicros === null ? 0n : BigInt(first.usableMicros);
      const body = [
        `${g.length === 1 ? 'Your subscription renews' : `Your ${g.length} subscriptions renew`} on ${renewsOn}, paid from your points:`,
        '',
        ...lines,
        '',
        `Estimated total (current prices and discounts, tax included): ${moneyText(total, currency)}`,
        usable >= total
          ? `Your usable points (${moneyText(usable, currency)}) cover it today.`
          : g.some((r) => r.renewByCard)
            ? `Your usable points (${moneyText(usable > 0n ? usable : 0n, currency)}) do not cover it today: unless you top up before ${renewsOn}, the fee will be charged to your saved card.`
            : `Your usable points (${moneyText(usable > 0n ? usable : 0n, currency)}) do not cover it today: top up before ${renewsOn}, or turn on renewal by card.`,
        'To stop a renewal, turn auto-renew off before that date.',
      ].join('\n');
      for (const r of recipients.get(first.customerId) ?? []) {
        notifications.push({
          partnerId, customerId: first.customerId, userId: r.userId, toEmail: r.email, kind: 'subscription_renewal_upcoming',
          subject: `Renewal on ${renewsOn}: ${g.length === 1 ? `${first.productName} – ${first.variantName}` : `${g.length} subscriptions`} (${moneyText(total, currency)})`,
          bodyText: body,
        });
      }
    }
    await insertSubscriptionEvents(trx, events);
    await enqueueNotificationsBulk(trx, notifications);
  }
  return rows.length;
}

interface EndedRow {
  id: string;
  partnerId: string;
  customerId: string;
  currency: string;
  currentPeriodEnd: Date;
  quantity: number;
  productName: string;
  variantName: string;
  renewalFailureReason: string | null;
  autoRenew: boolean;
  /** A closed customer is told no reactivation (it is refused: docs/adr/0038). */
  customerClosed: boolean;
}

/**
 * Step 0: subscriptions of closed customers that would still renew (active or awaiting their first payment, auto-renew
 * on) get auto-renew off, audited (`subscription.updated` per subscription, system actor) and written in their history,
 * as closing the customer does (stop-renewals-of-closed-customer.ts). Closing does it in its own transaction; what is
 * left is a purchase that read the customer as active before the close committed (docs/adr/0038). Each then runs to the
 * end of its period and expires. Subscriptions are locked with `skip locked`, customers not at all (the closing
 * transaction locks subscriptions before the customer row; this step takes no customer lock, so it cannot wait on it).
 */
export async function stopRenewalsOfClosedCustomers(trx: Trx, asOf: Date, limit: number): Promise<number> {
  const { rows } = await sql<{ id: string; partnerId: string; customerId: string; currency: string }>`
    with stopped as (
      update subscriptions s set auto_renew = false, updated_at = ${asOf}
      from (
        select s2.id from subscriptions s2
        join customers c on c.partner_id = s2.partner_id and c.id = s2.customer_id
        where c.status = 'closed' and s2.auto_renew and s2.status in ('active', 'pending_payment')
        order by s2.id limit ${limit}
        for update of s2 skip locked
      ) due
      where s.id = due.id and s.auto_renew and s.status in ('active', 'pending_payment')
      returning s.id, s.partner_id, s.customer_id, s.currency
    )
    select id, partner_id as "partnerId", customer_id as "customerId", currency from stopped order by partner_id, customer_id, id`.execute(trx);
  if (rows.length === 0) return 0;
  const auditIds = await recordAuditBulk(trx, RENEWAL_ACTOR.actor, rows.map((r) => ({
    partnerId: r.partnerId, customerId: r.customerId, app: 'customer', action: 'subscription.updated', targetType: 'subscription', targetId: r.id,
    changes: { autoRenew: { before: true, after: false } },
  })));
  await insertSubscriptionEvents(trx, rows.map((r, i): SubscriptionEventRow => ({
    partnerId: r.partnerId, customerId: r.customerId, subscriptionId: r.id, kind: 'settings_changed', amountMicros: null, currency: r.currency,
    invoiceId: null, detail: 'auto-renew off: the customer was closed', data: '{}', actor: `system:${RENEWAL_JOB_LABEL}`, auditEventId: auditIds[i]!,
    occurredAt: asOf,
  })));
  return rows.length;
}

/** Active subscriptions past their period end expire (the customer may reactivate them for 28 days). */
export async function expireSubscriptions(trx: Trx, asOf: Date, limit: number): Promise<number> {
  const { rows } = await sql<EndedRow>`
    with ended as (
      update subscriptions s set status = 'expired', expired_at = s.current_period_end, updated_at = ${asOf}
      from (
        select id from subscriptions where status = 'active' and current_period_end <= ${asOf}
        order by id limit ${limit} for update skip locked
      ) due
      where s.id = due.id and s.status = 'active'
      returning s.id, s.partner_id, s.customer_id, s.currency, s.current_period_end, s.quantity, s.product_id, s.variant_id,
        s.renewal_failure_reason, s.auto_renew
    )
    select e.id, e.partner_id as "partnerId", e.customer_id as "customerId", e.currency, e.current_period_end as "currentPeriodEnd",
      e.quantity, p.name as "productName", v.name as "variantName", e.renewal_failure_reason as "renewalFailureReason", e.auto_renew as "autoRenew",
      c.status = 'closed' as "customerClosed"
    from ended e
    join customers c on c.partner_id = e.partner_id and c.id = e.customer_id
    join products p on p.partner_id = e.partner_id and p.id = e.product_id
    join product_variants v on v.partner_id = e.partner_id and v.id = e.variant_id
    order by e.partner_id, e.customer_id, e.current_period_end, e.id`.execute(trx);
  await writeEnded(trx, rows, asOf, 'expired');
  return rows.length;
}

/** Expired subscriptions not reactivated within 28 days are terminated automatically on day 29. */
export async function terminateExpired(trx: Trx, asOf: Date, limit: number): Promise<number> {
  const { rows } = await sql<EndedRow>`
    with ended as (
      update subscriptions s set status = 'terminated', terminated_at = ${asOf}, termination_kind = 'automatic',
        termination_reason = ${`Not reactivated within ${REACTIVATION_DAYS} days of expiry`}, updated_at = ${asOf}
      from (
        select id from subscriptions where status = 'expired' and expired_at <= ${addDays(asOf, -REACTIVATION_DAYS)}
        order by id limit ${limit} for update skip locked
      ) due
      where s.id = due.id and s.status = 'expired'
      returning s.id, s.partner_id, s.customer_id, s.currency, s.current_period_end, s.quantity, s.product_id, s.variant_id,
        s.renewal_failure_reason, s.auto_renew
    )
    select e.id, e.partner_id as "partnerId", e.customer_id as "customerId", e.currency, e.current_period_end as "currentPeriodEnd",
      e.quantity, p.name as "productName", v.name as "variantName", e.renewal_failure_reason as "renewalFailureReason", e.auto_renew as "autoRenew",
      c.status = 'closed' as "customerClosed"
    from ended e
    join customers c on c.partner_id = e.partner_id and c.id = e.customer_id
    join products p on p.partner_id = e.partner_id and p.id = e.product_id
    join product_variants v on v.partner_id = e.partner_id and v.id = e.variant_id
    order by e.partner_id, e.customer_id, e.current_period_end, e.id`.execute(trx);
  await writeEnded(trx, rows, asOf, 'terminated');
  return rows.length;
}

async function writeEnded(trx: Trx, rows: readonly EndedRow[], asOf: Date, what: 'expired' | 'terminated'): Promise<void> {
  if (rows.length === 0) return;
  const byPartner = new Map<string, EndedRow[]>();
  for (const r of rows) pushTo(byPartner, r.partnerId, r);
  for (const [partnerId, list] of byPartner) {
    // One audit event per customer and expiry day (the trail's chain trigger runs once per row), listing the subscriptions.
    const groups = new Map<string, EndedRow[]>();
    for (const r of list) {
      const key = `${r.customerId}|${r.currentPeriodEnd.toISOString()}`;
      pushTo(groups, key, r);
    }
    const audits: SystemAuditInput[] = [...groups.values()].map((g) => ({
      partnerId, customerId: g[0]!.customerId, app: 'customer', action: `subscription.${what}`, targetType: 'subscription', targetId: g[0]!.id,
      changes: {
        ...(what === 'expired'
          ? { status: { before: 'active', after: 'expired' }, expiredAt: { after: g[0]!.currentPeriodEnd.toISOString() } }
          : { status: { before: 'expired', after: 'terminated' }, terminationKind: { after: 'automatic' } }),
        subscriptions: { after: g.map((r) => ({ id: r.id, product: `${r.productName} – ${r.variantName}`, quantity: r.quantity })) },
      },
    }));
    const auditIds = await recordAuditBulk(trx, RENEWAL_ACTOR.actor, audits);
    const auditIdOf = new Map<string, string>();
    [...groups.values()].forEach((g, i) => g.forEach((r) => auditIdOf.set(r.id, auditIds[i]!)));
    const events: SubscriptionEventRow[] = [];
    for (const r of list) {
      const lastDay = utcDate(addDays(r.currentPeriodEnd, -1));
      events.push({
        partnerId, customerId: r.customerId, subscriptionId: r.id, kind: what, amountMicros: null, currency: r.currency, invoiceId: null,
        detail: what === 'expired'
          ? `Expired after ${lastDay}${r.renewalFailureReason ? ` (renewal failed: ${r.renewalFailureReason})` : r.autoRenew ? '' : ' (auto-renew off)'}`.slice(0, 500)
          : `Terminated automatically: not reactivated within ${REACTIVATION_DAYS} days of expiry`,
        data: JSON.stringify({ periodEnd: r.currentPeriodEnd.toISOString() }),
        actor: `system:${RENEWAL_JOB_LABEL}`, auditEventId: auditIdOf.get(r.id)!, occurredAt: asOf,
      });
    }
    await insertSubscriptionEvents(trx, events);

    // One message per customer and expiry day.
    const recipients = await recipientsOf(trx, partnerId, [...new Set(list.map((r) => r.customerId))]);
    const notifications: BulkNotificationInput[] = [];
    for (const g of groups.values()) {
      const first = g[0]!;
      const names = g.map((r) => `- ${r.productName} – ${r.variantName} x ${r.quantity}`);
      const lastDay = utcDate(addDays(first.currentPeriodEnd, -1));
      const reactivateBy = utcDate(addDays(first.currentPeriodEnd, REACTIVATION_DAYS - 1));
      const one = g.length === 1;
      const subject = what === 'expired'
        ? `Expired: ${one ? `${first.productName} – ${first.variantName}` : `${g.length} subscriptions`}`
        : `Terminated: ${one ? `${first.productName} – ${first.variantName}` : `${g.length} subscriptions`}`;
      const body = what === 'expired'
        ? [`${one ? 'Your subscription has' : `Your ${g.length} subscriptions have`} expired after ${lastDay}:`, '', ...names, '',
            first.customerClosed
              ? `Your account is closed, so ${one ? 'it' : 'they'} cannot be reactivated. Contact your provider if you want ${one ? 'it' : 'them'} back.`
              : `You can reactivate ${one ? 'it' : 'them'} until ${reactivateBy} (a full period is charged, on the original renewal date); after that ${one ? 'it is' : 'they are'} terminated.`].join('\n')
        : [`${one ? 'Your subscription was' : `Your ${g.length} subscriptions were`} terminated, as ${one ? 'it was' : 'they were'} not reactivated within ${REACTIVATION_DAYS} days of expiry (${lastDay}):`, '', ...names].join('\n');
      for (const r of recipients.get(first.customerId) ?? []) {
        notifications.push({ partnerId, customerId: first.customerId, userId: r.userId, toEmail: r.email, kind: what === 'expired' ? 'subscription_expired' : 'subscription_terminated', subject, bodyText: body });
      }
    }
    await enqueueNotificationsBulk(trx, notifications);
  }
}

