import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { formatDecimal, isCurrency, type Currency, moneyText } from '../../money/money.ts';
import { discountedLine, quoteOf, type ChargeLine } from '../pricing.ts';
import type { TaxCategory } from '../../products/catalog.db-types.ts';
import { discountsFor, type DiscountRequest } from '../../discounts/discounts.repo.ts';
import type { Trx } from '../../platform/database.ts';
import { DomainError } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { postEntries, type EntryInput, type PostingInput } from '../../ledger/post-entry.ts';
import { issuePaidInvoicesBulk, type BulkInvoiceLineInput } from '../../invoices/issue-paid-invoices-bulk.ts';
import { documentNumberTaken, plannedInvoiceNumbers } from '../../invoices/invoice-numbers.ts';
import {
  enqueueNotificationsBulk, insertSubscriptionEvents, insertUnnest, recipientsOf, recordAuditBulk,
  type Actor, type BulkNotificationInput, type SubscriptionEventRow, type SystemAuditInput,
} from './bulk-writes.ts';
import { nextPeriod, RENEWAL_LEAD_DAYS, addDays, utcDate } from './renewal-dates.ts';
import { usableMicrosSql } from '../../wallet/wallets.repo.ts';

/**
 * The heart of the renewal run: renew, or fail, whole GROUPS in one transaction, set-based.
 * A group is every auto-renewing active subscription of one customer organisation (and currency) expiring on the same day:
 * they renew together or fail together (their fees are summed, all-or-nothing).
 *
 * In the caller's transaction (system scope for the job, partner scope for a staff recovery):
 * 1. lock the groups' wallets (ordered), then their due subscriptions and add-ons (ordered): a concurrent run waits here
 *    and then finds them renewed (the period moved on), so nothing is charged twice; the unique index of
 *    subscription_charges (one period charge per subscription and period) is the last wall;
 * 2. price each subscription from the CURRENT catalog price x quantity, plus its add-ons at their pending quantity
 *    (a quantity down takes effect now; a pending 0 removes the add-on), tax per invoice line (partner rate, `standard` products);
 * 3. usable points (points - reserved + credit limit in force) cover the group's total -> renewed: one paid Purchase invoice
 *    per group (a line per subscription and add-on), one ledger entry per group (Dr points:{c} price+tax / Cr revenue:subscription /
 *    Cr tax_payable; Dr cost:subscription / Cr platform_payable), a subscription_charges row and a `renewed` event per
 *    subscription, the period advanced on the anchor, audit `subscription.renewed` per subscription (customer set, so the
 *    portal's audit shows it), the invoice mailed to the owner;
 *    short, renew-by-card on (any subscription of the group) and a saved card (the newest unexpired) -> a pending renewal top-up of exactly the fee
 *    is written (or the pending one found again), to be charged after commit (renewal-by-card.ts);
 *    otherwise -> failed: renewal_failed_at/reason, a `renewal_failed` event, audit `subscription.renewal_failed`, and
 *    the owner told "renewal failed" (or, `onShort: 'throw'`, a 422 insufficient_points and nothing written);
 * 4. a renewing group whose invoice would take a number an issued document already carries (and the partner's invoiced
 *    groups after it in the batch) fails the same way, with that reason (`onShort: 'throw'`: 409 document_number_taken).
 * Every write is a multi-row statement for the whole set of groups.
 */

export interface GroupKey {
  partnerId: string;
  customerId: string;
  currency: string;
  /** The group's expiry (current_period_end). */
  periodEnd: Date;
}

export interface GroupOptions {
  asOf: Date;
  actor: Actor;
  /** Also take subscriptions whose renewal already failed this period (a staff recovery; a renewal paid by card). */
  retryFailed: boolean;
  /** What a short group does: record the failure (the job), or throw insufficient_points and write nothing (a recovery). */
  onShort: 'fail' | 'throw';
  /** Whether a short group with renew-by-card may start a card top-up; the gateway's name when so. */
  cardGateway: string | null;
  /** The app the audit events are filed under. */
  app?: string;
  /** Fail every group found with this reason, whatever its points (a declined renewal card). */
  failWith?: string;
}

export interface CardTopUp {
  topUpId: string;
  key: GroupKey;
  amountMicros: bigint;
  currency: Currency;
  customerRef: string;
  methodRef: string;
}

export interface GroupOutcome {
  key: GroupKey;
  status: 'renewed' | 'failed' | 'card';
  subscriptionIds: string[];
  totalMicros: bigint;
  invoiceNumber: string | null;
  reason: string | null;
  card: CardTopUp | null;
}

interface DueRow {
  id: string;
  priceId: string;
  partnerId: string;
  customerId: string;
  currency: string;
  cycle: string;
  quantity: number;
  anchorAt: Date;
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  renewByCard: boolean;
  priceMicros: string;
  costMicros: string;
  productName: string;
  variantName: string;
  taxCategory: TaxCategory;
  productId: string;
  variantId: string;
}

interface AddOnRow {
  id: string;
  priceId: string;
  subscriptionId: string;
  quantity: number;
  pendingQuantity: number | null;
  priceMicros: string;
  costMicros: string;
  productName: string;
  variantName: string;
  taxCategory: TaxCategory;
  productId: string;
  variantId: string;
}

interface CatalogRow {
  priceMicros: string;
  costMicros: string;
  productName: string;
  variantName: string;
  taxCategory: TaxCategory;
  productId: string;
  variantId: string;
}

/** Current catalog price, cost, names, product, variant and tax category of prices, by `partnerId|priceId`. */
async function catalogRows(trx: Trx, partnerIds: readonly string[], priceIds: readonly string[]): Promise<Map<string, CatalogRow>> {
  const { rows } = await sql<CatalogRow & { partnerId: string; priceId: string }>`
    select pp.partner_id as "partnerId", pp.id as "priceId", pp.price_micros::text as "priceMicros", pp.cost_micros::text as "costMicros",
      p.name as "productName", v.name as "variantName", p.tax_category as "taxCategory", p.id as "productId", v.id as "variantId"
    from product_prices pp
    join product_variants v on v.partner_id = pp.partner_id and v.id = pp.variant_id
    join products p on p.partner_id = v.partner_id and p.id = v.product_id
    where pp.partner_id = any(${[...partnerIds]}::text[]) and pp.id = any(${[...new Set(priceIds)]}::text[])`.execute(trx);
  return new Map(rows.map((r) => [`${r.partnerId}|${r.priceId}`, r]));
}

type Item = BulkInvoiceLineInput;

interface Priced {
  sub: DueRow;
  items: Item[];
  priceMicros: bigint;
  costMicros: bigint;
  taxMicros: bigint;
  next: { start: Date; end: Date };
  addOnChanges: { id: string; from: number; to: number }[];
}

interface Group {
  key: GroupKey;
  subs: Priced[];
  totalMicros: bigint;
}

const RENEWAL_JOB_LABEL = 'subscription_renewals';

/** Append to the list kept under a key. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Milliseconds spent per step of renewGroups in this process (read by bench/renewals.ts). */
export const renewalStepMillis = new Map<string, number>();
let stepStart = 0;
function step(name: string): void {
  const now = performance.now();
  if (name !== 'start') renewalStepMillis.set(name, (renewalStepMillis.get(name) ?? 0) + (now - stepStart));
  stepStart = now;
}

const keyString = (k: { partnerId: string; customerId: string; currency: string; periodEnd: Date }) =>
  `${k.partnerId}|${k.customerId}|${k.currency}|${k.periodEnd.toISOString()}`;


function currencyOf(code: string): Currency {
  assert(isCurrency(code), `unknown currency ${code}`);
  return code;
}

/** Who the subscription history names: a user id, or `system:<job>`. */
const historyActor = (actor: Actor) => (actor.actorType === 'system' ? `system:${actor.actorLabel}` : (actor.actorId ?? actor.actorLabel));

export async function renewGroups(trx: Trx, keys: readonly GroupKey[], options: GroupOptions): Promise<GroupOutcome[]> {
  if (keys.length === 0) return [];
  const { asOf } = options;
  const partners = keys.map((k) => k.partnerId);
  const customers = keys.map((k) => k.customerId);
  const currencies = keys.map((k) => k.currency);
  const ends = keys.map((k) => k.periodEnd.toISOString());

  step('start');
  // 1. Wallets first (ordered), then the subscriptions, then their add-ons: one lock order for every renewal path.
  const wallets = await sql<{ customerId: string; currency: string; usable: string; pointsAccountId: string; balance: string }>`
    select w.customer_id as "customerId", w.currency, w.points_account_id as "pointsAccountId", a.balance_micros::text as balance,
      ${usableMicrosSql(asOf)}::text as usable
    from wallets w
    join ledger_accounts a on a.id = w.points_account_id
    where (w.partner_id, w.customer_id, w.currency) in (
      select * from unnest(${partners}::text[], ${customers}::text[], ${currencies}::text[]))
    order by w.partner_id, w.customer_id, w.currency
    for update of w, a`.execute(trx);
  const usableOf = new Map(wallets.rows.map((w) => [`${w.customerId}|${w.currency}`, BigInt(w.usable)]));
  // The points accounts are locked with their wallets: the ledger posting reuses these balances instead of locking again.
  const lockedBalances = new Map(wallets.rows.map((w) => [w.pointsAccountId, BigInt(w.balance)]));
  step('lock wallets');

  // Lock the due subscriptions first (a plain keyed lookup), then read their catalog rows (no lock needed).
  const locked = await sql<Omit<DueRow, 'priceMicros' | 'costMicros' | 'productName' | 'variantName' | 'taxCategory'>>`
    with k (partner_id, customer_id, currency, period_end) as (
      select * from unnest(${partners}::text[], ${customers}::text[], ${currencies}::text[], ${ends}::timestamptz[]))
    select s.id, s.partner_id as "partnerId", s.customer_id as "customerId", s.currency, s.cycle, s.quantity,
      s.anchor_at as "anchorAt", s.current_period_start as "currentPeriodStart", s.current_period_end as "currentPeriodEnd",
      s.renew_by_card as "renewByCard", s.price_id as "priceId", s.product_id as "productId", s.variant_id as "variantId"
    from k
    join subscriptions s on s.partner_id = k.partner_id and s.customer_id = k.customer_id and s.currency = k.currency
      and s.current_period_end = k.period_end
    where s.status = 'active' and s.auto_renew and (${options.retryFailed}::boolean or s.renewal_failed_at is null)
      and s.current_period_end <= ${addDays(asOf, RENEWAL_LEAD_DAYS)}
      -- The batch's customers again, as arrays the planner can count: the customer index (a few rows each), never a
      -- scan of every subscription per batch (the join alone was estimated at one row per 100, and became one).
      and s.partner_id = any(${[...new Set(partners)]}::text[]) and s.customer_id = any(${[...new Set(customers)]}::text[])
      -- Nothing of a closed customer renews (docs/adr/0038); the run's step 0 turns such a subscription's auto-renew off.
      and not exists (select 1 from customers c where c.partner_id = s.partner_id and c.id = s.customer_id and c.status = 'closed')
    order by s.id
    for update of s`.execute(trx);
  const catalog = locked.rows.length === 0 ? new Map<string, CatalogRow>() : await catalogRows(trx, [...new Set(partners)], locked.rows.map((r) => r.priceId));
  const due = {
    rows: locked.rows.map((r): DueRow => {
      const c = catalog.get(`${r.partnerId}|${r.priceId}`);
      assert(c, `price ${r.priceId} of subscription ${r.id} not found`);
      // The invoice line names the product and variant of the price it renews at (the catalog's, as the price and tax are).
      return {
        ...r, priceMicros: c.priceMicros, costMicros: c.costMicros, productName: c.productName, variantName: c.variantName, taxCategory: c.taxCategory,
        productId: c.productId, variantId: c.variantId,
      };
    }),
  };
  if (due.rows.length === 0) return [];
  const subIds = due.rows.map((r) => r.id);
  step('lock subscriptions');

  const lockedAddOns = await sql<{ id: string; partnerId: string; subscriptionId: string; quantity: number; pendingQuantity: number | null; priceId: string }>`
    select a.id, a.partner_id as "partnerId", a.subscription_id as "subscriptionId", a.quantity, a.pending_quantity as "pendingQuantity", a.price_id as "priceId"
    from subscription_add_ons a
    where a.partner_id = any(${[...new Set(partners)]}::text[]) and a.subscription_id = any(${subIds}::text[]) and a.removed_at is null
    order by a.id
    for update`.execute(trx);
  const addOnCatalog = lockedAddOns.rows.length === 0 ? new Map<string, CatalogRow>() : await catalogRows(trx, [...new Set(partners)], lockedAddOns.rows.map((r) => r.priceId));
  const addOns = {
    rows: lockedAddOns.rows.map((a): AddOnRow => {
      const c = addOnCatalog.get(`${a.partnerId}|${a.priceId}`);
      assert(c, `price ${a.priceId} of add-on ${a.id} not found`);
      return { id: a.id, priceId: a.priceId, subscriptionId: a.subscriptionId, quantity: a.quantity, pendingQuantity: a.pendingQuantity, ...c };
    }),
  };
  const addOnsOf = new Map<string, AddOnRow[]>();
  for (const a of addOns.rows) pushTo(addOnsOf, a.subscriptionId, a);

  const rates = await trx.selectFrom('partnerSettings').select(['partnerId', 'taxRateBps']).where('partnerId', 'in', [...new Set(partners)]).execute();
  const rateOf = new Map(rates.map((r) => [r.partnerId, r.taxRateBps]));
  step('add-ons, tax rates');

  // Discounts (src/discounts, docs/adr/0016): judged on the first day of the period each renewal pays for, one query for the set.
  const discountRequests: DiscountRequest[] = [];
  for (const sub of due.rows) {
    const day = utcDate(sub.currentPeriodEnd);
    discountRequests.push({ partnerId: sub.partnerId, customerId: sub.customerId, priceId: sub.priceId, day });
    for (const a of addOnsOf.get(sub.id) ?? []) discountRequests.push({ partnerId: sub.partnerId, customerId: sub.customerId, priceId: a.priceId, day });
  }
  const foundDiscounts = await discountsFor(trx, discountRequests);
  let discountAt = 0;
  step('discounts');

  // 2. Price every subscription; gather the groups.
  const groups = new Map<string, Group>();
  for (const sub of due.rows) {
    const currency = currencyOf(sub.currency);
    const rate = rateOf.get(sub.partnerId) ?? 0;
    const next = nextPeriod(sub.anchorAt, sub.currentPeriodEnd, sub.cycle);
    const period = `${utcDate(next.start)} to ${utcDate(addDays(next.end, -1))}`;
    // The same lines and tax rule as a purchase (src/subscriptions/pricing.ts): tax once on the charge's taxable sum,
    // spread over its lines for the invoice.
    const lines: ChargeLine[] = [discountedLine({
      kind: 'subscription', description: `${sub.productName} – ${sub.variantName} (${sub.cycle}), ${period}`, amountMicros: BigInt(sub.priceMicros) * BigInt(sub.quantity),
      costMicros: BigInt(sub.costMicros) * BigInt(sub.quantity), taxable: sub.taxCategory === 'standard', taxCategory: sub.taxCategory, priceId: sub.priceId,
      productId: sub.productId, variantId: sub.variantId, quantity: sub.quantity, unitPriceMicros: BigInt(sub.priceMicros),
    }, foundDiscounts[discountAt++] ?? null, currency)];
    const addOnChanges: Priced['addOnChanges'] = [];
    for (const a of addOnsOf.get(sub.id) ?? []) {
      const quantity = a.pendingQuantity ?? a.quantity;
      if (a.pendingQuantity !== null) addOnChanges.push({ id: a.id, from: a.quantity, to: a.pendingQuantity });
      const terms = foundDiscounts[discountAt++] ?? null;
      if (quantity === 0) continue;
      lines.push(discountedLine({
        kind: 'add_on', description: `Add-on ${a.productName} – ${a.variantName} (${sub.cycle}), ${period}`, amountMicros: BigInt(a.priceMicros) * BigInt(quantity),
        costMicros: BigInt(a.costMicros) * BigInt(quantity), taxable: a.taxCategory === 'standard', taxCategory: a.taxCategory, priceId: a.priceId,
        productId: a.productId, variantId: a.variantId, addOnId: a.id, quantity, unitPriceMicros: BigInt(a.priceMicros),
      }, terms, currency));
    }
    const quote = quoteOf(currency, lines, rate);
    // A full period: the units at the catalog unit price (unit x quantity = the gross, exactly), the product's tax category,
    // the partner's rate on a standard line and 0 on a zero-rated or exempt one.
    const items: Item[] = lines.map((l, i) => ({
      kind: l.kind === 'subscription' ? 'subscription_renewal' : 'add_on_renewal', description: l.description, quantity: l.quantity,
      unitAmountMicros: l.unitPriceMicros, taxMicros: quote.lineTaxMicros[i]!, discountMicros: l.discountMicros ?? 0n, discountId: l.discountId ?? null,
      productId: l.productId, variantId: l.variantId, taxCategory: l.taxCategory, taxRateBps: l.taxable ? quote.taxRateBps : 0,
    }));
    const priceMicros = quote.priceMicros;
    const costMicros = quote.costMicros;
    const taxMicros = quote.taxMicros;
    const key: GroupKey = { partnerId: sub.partnerId, customerId: sub.customerId, currency: sub.currency, periodEnd: sub.currentPeriodEnd };
    const group = groups.get(keyString(key)) ?? { key, subs: [], totalMicros: 0n };
    group.subs.push({ sub, items, priceMicros, costMicros, taxMicros, next, addOnChanges });
    group.totalMicros += priceMicros + taxMicros;
    groups.set(keyString(key), group);
  }

  if (options.failWith !== undefined) {
    const reason = options.failWith;
    return writeFailed(trx, [...groups.values()].map((group) => ({ group, reason })), options);
  }

  step('pricing');
  // 3. Decide each group, earliest expiry first: a customer's usable points pay its groups in turn, each group only from
  // what the ones before it left (two groups of one customer due in the same run must not both spend the same points).
  const renewing: Group[] = [];
  const short: Group[] = [];
  const left = new Map(usableOf);
  const ordered = [...groups.values()].sort((a, b) => a.key.periodEnd.getTime() - b.key.periodEnd.getTime() || (keyString(a.key) < keyString(b.key) ? -1 : 1));
  for (const group of ordered) {
    const wallet = `${group.key.customerId}|${group.key.currency}`;
    const usable = left.get(wallet) ?? 0n;
    if (usable >= group.totalMicros) {
      renewing.push(group);
      left.set(wallet, usable - group.totalMicros);
    } else {
      short.push(group);
    }
  }
  if (short.length > 0 && options.onShort === 'throw' && !options.cardGateway) {
    const g = short[0]!;
    const usable = usableOf.get(`${g.key.customerId}|${g.key.currency}`) ?? 0n;
    const currency = currencyOf(g.key.currency);
    throw new DomainError('insufficient_points', `Not enough points to renew: ${moneyText(g.totalMicros, currency)} needed, ${moneyText(usable > 0n ? usable : 0n, currency)} usable`);
  }

  const outcomes: GroupOutcome[] = [];
  const cards = options.cardGateway ? await cardsFor(trx, short.filter((g) => g.subs.some((p) => p.sub.renewByCard)), options.cardGateway, asOf) : new Map<string, SavedCardRef>();
  const failing: Group[] = [];
  const toCharge: Group[] = [];
  for (const group of short) {
    const card = group.subs.some((p) => p.sub.renewByCard) ? cards.get(`${group.key.partnerId}|${group.key.customerId}`) : undefined;
    if (card) toCharge.push(group);
    else failing.push(group);
  }
  if (failing.length > 0 && options.onShort === 'throw') {
    const g = failing[0]!;
    const usable = usableOf.get(`${g.key.customerId}|${g.key.currency}`) ?? 0n;
    const currency = currencyOf(g.key.currency);
    throw new DomainError('insufficient_points', `Not enough points to renew: ${moneyText(g.totalMicros, currency)} needed, ${moneyText(usable > 0n ? usable : 0n, currency)} usable`);
  }

  // 4. Numbers: a renewal whose invoice would take a number an issued document already carries fails with that reason
  //    (a recovery: 409 document_number_taken, nothing written), never the whole batch (docs/adr/0041).
  const unnumbered = await unnumberedRenewals(trx, renewing, asOf);
  if (unnumbered.length > 0 && options.onShort === 'throw') throw unnumbered[0]!.error;
  const numbered = renewing.filter((g) => !unnumbered.some((u) => u.group === g));

  outcomes.push(...(await writeRenewed(trx, numbered, options, lockedBalances)));
  outcomes.push(...(await writeFailed(trx, [...failing.map((g) => ({ group: g, reason: shortReason(g, left) })), ...unnumbered], options)));
  for (const group of toCharge) {
    const card = cards.get(`${group.key.partnerId}|${group.key.customerId}`)!;
    const topUp = await pendingRenewalTopUp(trx, group, card, options);
    outcomes.push({
      key: group.key, status: 'card', subscriptionIds: group.subs.map((p) => p.sub.id), totalMicros: group.totalMicros, invoiceNumber: null, reason: null, card: topUp,
    });
  }
  return outcomes;
}

/**
 * The renewing groups whose invoice cannot be numbered: per partner, in the order writeRenewed issues their invoices,
 * the group whose number an issued document already carries (a format changed before formats were checked against the
 * numbers issued) and every invoiced group after it (the counter cannot move past that number until the format changes).
 * The partner's purchase counter stays locked to commit (plannedInvoiceNumbers), so the others get the numbers planned.
 */
async function unnumberedRenewals(trx: Trx, renewing: readonly Group[], asOf: Date): Promise<{ group: Group; reason: string; error: DomainError }[]> {
  const byPartner = new Map<string, Group[]>();
  for (const g of renewing) pushTo(byPartner, g.key.partnerId, g);
  const unnumbered: { group: Group; reason: string; error: DomainError }[] = [];
  for (const [partnerId, groups] of byPartner) {
    const invoiced = groups.filter((g) => g.totalMicros > 0n);
    if (invoiced.length === 0) continue;
    const plan = await plannedInvoiceNumbers(trx, partnerId, 'purchase', asOf, invoiced.length);
    if (!plan.taken) continue;
    const reason = `the renewal invoice could not be numbered: ${plan.taken.number} was already issued on ${utcDate(plan.taken.issuedAt)}; `
      + 'the purchase number format must be changed in Portal Settings';
    const error = documentNumberTaken('purchase', plan.taken.number, plan.taken.issuedAt);
    for (const group of invoiced.slice(plan.issuable)) unnumbered.push({ group, reason, error });
  }
  return unnumbered;
}

function shortReason(group: Group, usableOf: Map<string, bigint>): string {
  const currency = currencyOf(group.key.currency);
  const usable = usableOf.get(`${group.key.customerId}|${group.key.currency}`) ?? 0n;
  return `Not enough points: ${moneyText(group.totalMicros, currency)} needed, ${moneyText(usable > 0n ? usable : 0n, currency)} usable`;
}

interface SavedCardRef {
  id: string;
  customerRef: string;
  methodRef: string;
}

/** The card each customer's renewals are charged to: the newest saved card on the gateway that is not removed or expired. */
async function cardsFor(trx: Trx, groups: readonly Group[], gateway: string, asOf: Date): Promise<Map<string, SavedCardRef>> {
  const found = new Map<string, SavedCardRef>();
  if (groups.length === 0) return found;
  const month = asOf.getUTCFullYear() * 12 + asOf.getUTCMonth() + 1;
  const { rows } = await sql<{ partnerId: string; customerId: string; id: string; customerRef: string; methodRef: string }>`
    select distinct on (c.partner_id, c.customer_id) c.partner_id as "partnerId", c.customer_id as "customerId", c.id,
      c.gateway_customer_ref as "customerRef", c.method_ref as "methodRef"
    from saved_cards c
    where (c.partner_id, c.customer_id) in (select * from unnest(${groups.map((g) => g.key.partnerId)}::text[], ${groups.map((g) => g.key.customerId)}::text[]))
      and c.removed_at is null and c.gateway = ${gateway} and c.exp_year * 12 + c.exp_month >= ${month}
    order by c.partner_id, c.customer_id, c.id desc`.execute(trx);
  for (const r of rows) found.set(`${r.partnerId}|${r.customerId}`, { id: r.id, customerRef: r.customerRef, methodRef: r.methodRef });
  return found;
}

/** The group's pending renewal top-up: the one a crashed run left (charged again with the same gateway key), or a new one. */
async function pendingRenewalTopUp(trx: Trx, group: Group, card: SavedCardRef, options: GroupOptions): Promise<CardTopUp> {
  const currency = currencyOf(group.key.currency);
  const existing = await trx
    .selectFrom('topUps')
    .select(['id', 'amountMicros', 'savedCardId'])
    .where('partnerId', '=', group.key.partnerId).where('customerId', '=', group.key.customerId)
    .where('renewalFor', '=', group.key.periodEnd).where('status', '=', 'pending')
    .executeTakeFirst();
  if (existing) {
    const used = existing.savedCardId === card.id ? card : await trx
      .selectFrom('savedCards').select(['id', 'gatewayCustomerRef as customerRef', 'methodRef'])
      .where('partnerId', '=', group.key.partnerId).where('id', '=', existing.savedCardId ?? '')
      .executeTakeFirst() ?? card;
    return { topUpId: existing.id, key: group.key, amountMicros: BigInt(existing.amountMicros), currency, customerRef: used.customerRef, methodRef: used.methodRef };
  }
  const id = newId('top');
  await sql`
    insert into top_ups (id, partner_id, customer_id, user_id, currency, amount_micros, fee_micros, status, auto, auto_for_date,
      policy_effective_from, gateway, saved_card_id, request_key, renewal_for, created_at, updated_at)
    values (${id}, ${group.key.partnerId}, ${group.key.customerId}, null, ${group.key.currency}, ${group.totalMicros.toString()}::bigint, 0, 'pending', true,
      ${utcDate(options.asOf)}::date, null, ${options.cardGateway}, ${card.id}, null, ${group.key.periodEnd}, ${options.asOf}, ${options.asOf})`.execute(trx);
  return { topUpId: id, key: group.key, amountMicros: group.totalMicros, currency, customerRef: card.customerRef, methodRef: card.methodRef };
}

async function writeRenewed(trx: Trx, groups: readonly Group[], options: GroupOptions, lockedBalances: ReadonlyMap<string, bigint>): Promise<GroupOutcome[]> {
  if (groups.length === 0) return [];
  const { asOf, actor } = options;
  const outcomes: GroupOutcome[] = [];
  const byPartner = new Map<string, Group[]>();
  for (const g of groups) pushTo(byPartner, g.key.partnerId, g);

  for (const [partnerId, partnerGroups] of byPartner) {
    // The ledger entries' ids, chosen now (in the order they are posted below: per currency, then group) so that each
    // invoice records the entry that paid it.
    const byCurrency = new Map<string, Group[]>();
    for (const g of partnerGroups) pushTo(byCurrency, g.key.currency, g);
    const plannedEntryOf = new Map<Group, string>();
    for (const currencyGroups of byCurrency.values()) for (const g of currencyGroups) plannedEntryOf.set(g, newId('je'));
    // Who paid: the staff user (or API key) of a recovery; nobody for the job.
    const paidBy = actor.actorType === 'system' ? null : actor.actorId;

    // Invoices: one per group that costs something, paid from points by the group's entry.
    const invoiced = partnerGroups.filter((g) => g.totalMicros > 0n);
    const issued = await issuePaidInvoicesBulk(trx, {
      partnerId, type: 'purchase', paidAt: asOf,
      invoices: invoiced.map((g) => ({
        customerId: g.key.customerId, currency: currencyOf(g.key.currency),
        lines: g.subs.flatMap((p) => p.items).filter((i) => i.unitAmountMicros > 0n),
        paidWith: { source: 'points' as const, entryId: plannedEntryOf.get(g)!, paidBy },
      })),
    });
    const invoiceOf = new Map<Group, { id: string; number: string }>(invoiced.map((g, i) => [g, issued[i]!]));
    step('invoices');

    // Audit: one event per group (the trail's chain trigger runs once per row, serialised per partner), naming the
    // group's first subscription as its target and listing every subscription of the group with what it renewed.
    const audits: SystemAuditInput[] = [];
    const auditIdOfGroup = new Map<Group, string>();
    for (const g of partnerGroups) {
      const currency = currencyOf(g.key.currency);
      const invoice = invoiceOf.get(g);
      const id = newId('evt');
      auditIdOfGroup.set(g, id);
      audits.push({
        id, partnerId, customerId: g.key.customerId, app: options.app ?? 'customer', action: 'subscription.renewed', targetType: 'subscription', targetId: g.subs[0]!.sub.id,
        changes: {
          currentPeriodEnd: { before: g.key.periodEnd.toISOString(), after: g.subs[0]!.next.end.toISOString() },
          total: { after: formatDecimal(g.totalMicros, currency) },
          currency: { after: currency },
          ...(invoice ? { invoiceNumber: { after: invoice.number } } : {}),
          subscriptions: {
            after: g.subs.map((p) => ({
              id: p.sub.id, product: `${p.sub.productName} – ${p.sub.variantName}`, quantity: p.sub.quantity, renewedUntil: p.next.end.toISOString(),
              price: formatDecimal(p.priceMicros, currency), tax: formatDecimal(p.taxMicros, currency),
              ...(p.addOnChanges.length > 0 ? { addOnQuantities: p.addOnChanges.map((c) => ({ id: c.id, before: c.from, after: c.to })) } : {}),
            })),
          },
        },
      });
    }
    const auditIdOf = new Map<string, string>(partnerGroups.flatMap((g) => g.subs.map((p) => [p.sub.id, auditIdOfGroup.get(g)!] as const)));
    await recordAuditBulk(trx, actor, audits);
    step('audit');

    // Ledger: one entry per group, per currency.
    const entryOf = new Map<Group, string>();
    for (const [currency, currencyGroups] of byCurrency) {
      const entries: EntryInput[] = [];
      const entryGroups: Group[] = [];
      for (const g of currencyGroups) {
        const price = g.subs.reduce((s, p) => s + p.priceMicros, 0n);
        const tax = g.subs.reduce((s, p) => s + p.taxMicros, 0n);
        const cost = g.subs.reduce((s, p) => s + p.costMicros, 0n);
        const postings: PostingInput[] = [];
        if (price + tax > 0n) postings.push({ code: 'points', customerId: g.key.customerId, amountMicros: price + tax });
        if (price > 0n) postings.push({ code: 'revenue:subscription', amountMicros: -price });
        if (tax > 0n) postings.push({ code: 'tax_payable', amountMicros: -tax });
        if (cost > 0n) postings.push({ code: 'cost:subscription', amountMicros: cost }, { code: 'platform_payable', amountMicros: -cost });
        const invoice = invoiceOf.get(g);
        // An invoiced group has something to pay (points and revenue or tax): its entry is the one its invoice names.
        assert(!invoice || postings.length >= 2, 'an invoiced renewal posts its entry');
        if (postings.length < 2) continue;
        const entryId = plannedEntryOf.get(g)!;
        entryOf.set(g, entryId);
        entryGroups.push(g);
        entries.push({
          entryId, partnerId, currency, customerId: g.key.customerId, kind: 'subscription_renewal',
          causeType: 'subscription_renewal', causeId: invoice?.id ?? g.subs[0]!.sub.id,
          description: `Renewal of ${g.subs.length === 1 ? `${g.subs[0]!.sub.productName} – ${g.subs[0]!.sub.variantName}` : `${g.subs.length} subscriptions`}${invoice ? `, invoice ${invoice.number}` : ''}`,
          auditEventId: auditIdOf.get(g.subs[0]!.sub.id)!,
          postings,
        });
      }
      await postEntries(trx, entries, { lockedBalances });
    }
    step('ledger');

    // Charges, periods, add-ons, history.
    const charges = [];
    const events: SubscriptionEventRow[] = [];
    for (const g of partnerGroups) {
      const invoice = invoiceOf.get(g);
      for (const p of g.subs) {
        charges.push({
          id: newId('txn'), partnerId, customerId: g.key.customerId, subscriptionId: p.sub.id, addOnId: null, kind: 'renewal' as const,
          periodStart: p.next.start, periodEnd: p.next.end, currency: g.key.currency, quantity: p.sub.quantity,
          priceMicros: p.priceMicros, activationFeeMicros: 0n, taxMicros: p.taxMicros, costMicros: p.costMicros,
          invoiceId: invoice?.id ?? null, entryId: entryOf.get(g) ?? null, chargedAt: asOf,
        });
        events.push({
          partnerId, customerId: g.key.customerId, subscriptionId: p.sub.id, kind: 'renewed', amountMicros: p.priceMicros + p.taxMicros,
          currency: g.key.currency, invoiceId: invoice?.id ?? null,
          detail: `Renewed until ${utcDate(addDays(p.next.end, -1))}${invoice ? `, invoice ${invoice.number}` : ''}`,
          data: JSON.stringify({
            periodStart: p.next.start.toISOString(), periodEnd: p.next.end.toISOString(), price: p.priceMicros.toString(), tax: p.taxMicros.toString(),
            cost: p.costMicros.toString(), group: g.subs.map((q) => q.sub.id), addOnChanges: p.addOnChanges,
          }),
          actor: historyActor(actor), auditEventId: auditIdOf.get(p.sub.id)!, occurredAt: asOf,
        });
      }
    }
    for (let i = 0; i < charges.length; i += 5000) {
      await insertUnnest(trx, 'subscription_charges', [
        ['id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['subscription_id', 'text'], ['kind', 'text'], ['period_start', 'timestamptz'],
        ['period_end', 'timestamptz'], ['currency', 'text'], ['quantity', 'int'], ['price_micros', 'bigint'], ['tax_micros', 'bigint'], ['cost_micros', 'bigint'],
        ['invoice_id', 'text'], ['entry_id', 'text'], ['charged_at', 'timestamptz'],
      ], charges.slice(i, i + 5000).map((c) => [
        c.id, c.partnerId, c.customerId, c.subscriptionId, c.kind, c.periodStart, c.periodEnd, c.currency, c.quantity, c.priceMicros, c.taxMicros, c.costMicros,
        c.invoiceId, c.entryId, c.chargedAt,
      ]));
    }
    await insertSubscriptionEvents(trx, events);
    step('charges, events');

    const renewed = partnerGroups.flatMap((g) => g.subs);
    await sql`
      update subscriptions s set current_period_start = u.period_start, current_period_end = u.period_end, last_renewed_at = ${asOf},
        renewal_failed_at = null, renewal_failure_reason = null, updated_at = ${asOf}
      from unnest(${renewed.map((p) => p.sub.id)}::text[], ${renewed.map((p) => p.next.start.toISOString())}::timestamptz[],
                  ${renewed.map((p) => p.next.end.toISOString())}::timestamptz[]) as u(id, period_start, period_end)
      where s.partner_id = ${partnerId} and s.id = u.id`.execute(trx);
    const changed = renewed.flatMap((p) => p.addOnChanges);
    if (changed.length > 0) {
      await sql`
        update subscription_add_ons a
        set quantity = case when u.quantity = 0 then a.quantity else u.quantity end,
            removed_at = case when u.quantity = 0 then ${asOf}::timestamptz else null end,
            pending_quantity = null, updated_at = ${asOf}
        from unnest(${changed.map((c) => c.id)}::text[], ${changed.map((c) => c.to)}::int[]) as u(id, quantity)
        where a.partner_id = ${partnerId} and a.id = u.id`.execute(trx);
    }

    step('periods, add-ons');
    // The invoice, mailed to the owner (admins when there is no owner).
    const recipients = await recipientsOf(trx, partnerId, [...new Set(partnerGroups.map((g) => g.key.customerId))]);
    const notifications: BulkNotificationInput[] = [];
    for (const g of partnerGroups) {
      const currency = currencyOf(g.key.currency);
      const invoice = invoiceOf.get(g);
      const lines = g.subs.map((p) => `- ${p.sub.productName} – ${p.sub.variantName} x ${p.sub.quantity}: ${moneyText(p.priceMicros + p.taxMicros, currency)}, renewed until ${utcDate(addDays(p.next.end, -1))}`);
      const subject = invoice
        ? `Invoice ${invoice.number}: ${g.subs.length === 1 ? 'subscription' : `${g.subs.length} subscriptions`} renewed (${moneyText(g.totalMicros, currency)})`
        : `${g.subs.length === 1 ? 'Subscription' : `${g.subs.length} subscriptions`} renewed`;
      const body = [
        `${g.subs.length === 1 ? 'Your subscription was' : 'Your subscriptions were'} renewed and paid from your points.`,
        '',
        ...lines,
        '',
        `Total (tax included): ${moneyText(g.totalMicros, currency)}`,
        ...(invoice ? [`Invoice: ${invoice.number} (paid)`] : []),
      ].join('\n');
      for (const r of recipients.get(g.key.customerId) ?? []) {
        notifications.push({ partnerId, customerId: g.key.customerId, userId: r.userId, toEmail: r.email, kind: 'invoice_issued', subject, bodyText: body });
      }
      outcomes.push({ key: g.key, status: 'renewed', subscriptionIds: g.subs.map((p) => p.sub.id), totalMicros: g.totalMicros, invoiceNumber: invoice?.number ?? null, reason: null, card: null });
    }
    await enqueueNotificationsBulk(trx, notifications);
    step('notifications');
  }
  return outcomes;
}

/** Record failed groups: every subscription of the group fails with the same reason; the owner is told once per group. */
export async function writeFailed(trx: Trx, failed: readonly { group: Pick<Group, 'key' | 'totalMicros'> & { subs: readonly { sub: Pick<DueRow, 'id' | 'productName' | 'variantName' | 'quantity'> }[] }; reason: string }[], options: GroupOptions): Promise<GroupOutcome[]> {
  if (failed.length === 0) return [];
  const { asOf, actor } = options;
  const outcomes: GroupOutcome[] = [];
  const byPartner = new Map<string, typeof failed[number][]>();
  for (const f of failed) pushTo(byPartner, f.group.key.partnerId, f);
  for (const [partnerId, list] of byPartner) {
    const audits: SystemAuditInput[] = [];
    const events: SubscriptionEventRow[] = [];
    const ids: string[] = [];
    const reasons: string[] = [];
    for (const { group: g, reason } of list) {
      const currency = currencyOf(g.key.currency);
      const auditId = newId('evt');
      audits.push({
        id: auditId, partnerId, customerId: g.key.customerId, app: options.app ?? 'customer', action: 'subscription.renewal_failed', targetType: 'subscription', targetId: g.subs[0]!.sub.id,
        changes: {
          renewalFailureReason: { after: reason }, total: { after: formatDecimal(g.totalMicros, currency) }, currency: { after: currency },
          subscriptions: { after: g.subs.map((p) => ({ id: p.sub.id, product: `${p.sub.productName} – ${p.sub.variantName}`, quantity: p.sub.quantity })) },
        },
      });
      for (const p of g.subs) {
        ids.push(p.sub.id);
        reasons.push(reason.slice(0, 500));
        events.push({
          partnerId, customerId: g.key.customerId, subscriptionId: p.sub.id, kind: 'renewal_failed', amountMicros: null, currency: g.key.currency, invoiceId: null,
          detail: reason.slice(0, 500), data: JSON.stringify({ periodEnd: g.key.periodEnd.toISOString(), groupTotal: g.totalMicros.toString(), group: g.subs.map((q) => q.sub.id) }),
          actor: historyActor(actor), auditEventId: auditId, occurredAt: asOf,
        });
      }
    }
    await recordAuditBulk(trx, actor, audits);
    await insertSubscriptionEvents(trx, events);
    await sql`
      update subscriptions s set renewal_failed_at = ${asOf}, renewal_failure_reason = u.reason, updated_at = ${asOf}
      from unnest(${ids}::text[], ${reasons}::text[]) as u(id, reason)
      where s.partner_id = ${partnerId} and s.id = u.id`.execute(trx);

    const recipients = await recipientsOf(trx, partnerId, [...new Set(list.map((f) => f.group.key.customerId))]);
    const notifications: BulkNotificationInput[] = [];
    for (const { group: g, reason } of list) {
      const currency = currencyOf(g.key.currency);
      const expiry = utcDate(addDays(g.key.periodEnd, -1));
      const body = [
        `We could not renew ${g.subs.length === 1 ? 'your subscription' : `your ${g.subs.length} subscriptions`} due on ${utcDate(addDays(g.key.periodEnd, -RENEWAL_LEAD_DAYS))}: ${reason}.`,
        '',
        ...g.subs.map((p) => `- ${p.sub.productName} – ${p.sub.variantName} x ${p.sub.quantity}`),
        '',
        `Renewal total (tax included): ${moneyText(g.totalMicros, currency)}`,
        `${g.subs.length === 1 ? 'It ends' : 'They end'} after ${expiry} unless renewed: top up your points and ask your account manager to retry, or reactivate within 28 days after expiry.`,
      ].join('\n');
      for (const r of recipients.get(g.key.customerId) ?? []) {
        notifications.push({
          partnerId, customerId: g.key.customerId, userId: r.userId, toEmail: r.email, kind: 'subscription_renewal_failed',
          subject: `Renewal failed: ${g.subs.length === 1 ? `${g.subs[0]!.sub.productName} – ${g.subs[0]!.sub.variantName}` : `${g.subs.length} subscriptions`} (${moneyText(g.totalMicros, currency)})`,
          bodyText: body,
        });
      }
      outcomes.push({ key: g.key, status: 'failed', subscriptionIds: g.subs.map((p) => p.sub.id), totalMicros: g.totalMicros, invoiceNumber: null, reason, card: null });
    }
    await enqueueNotificationsBulk(trx, notifications);
  }
  return outcomes;
}

export { RENEWAL_JOB_LABEL };
