import { formatDate } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import type { PortalAddOn, PortalCatalogItem, PortalSubscription } from './types.ts';

/**
 * What the portal says about add-ons (src/subscriptions/add-add-on.ts, change-add-on-quantity.ts, add-ons.ts). Before a
 * change, the server's quote (src/subscriptions/quote-add-on.ts) gives the amount, beside the rule in words with the
 * catalog's own figures; after it, what was charged is read back from the subscription's history: the browser computes
 * no money.
 */

/** A catalog price that can be added to one subscription. */
export interface AddOnChoice {
  priceId: string;
  productName: string;
  variantName: string;
  cycle: 'monthly' | 'yearly';
  currency: string;
  /** Per unit and per period, before tax and discounts (the catalog's). */
  price: string;
  /** Charged once when it is added (the catalog's); "0.00" when none. */
  activationFee: string;
  label: string;
}

/** "month" or "year": the period a cycle bills. */
export function periodWord(cycle: 'monthly' | 'yearly'): string {
  return cycle === 'monthly' ? 'month' : 'year';
}

/**
 * The prices the API accepts as an add-on of `s` (addAddOn): on sale (the portal catalog has only those), in the
 * subscription's currency and cycle, not its own price, and not already one of its add-ons (that one's quantity is
 * changed instead). In the catalog's order.
 */
export function addOnChoices(catalog: readonly PortalCatalogItem[], s: PortalSubscription): AddOnChoice[] {
  const taken = new Set([s.priceId, ...s.addOns.map((a) => a.priceId)]);
  return catalog.flatMap((p) => p.variants.flatMap((v) => v.prices
    .filter((pr) => pr.cycle === s.cycle && pr.currency === s.currency && !taken.has(pr.priceId))
    .map((pr) => ({
      priceId: pr.priceId, productName: p.name, variantName: v.name, cycle: pr.cycle, currency: pr.currency, price: pr.price, activationFee: pr.activationFee,
      label: `${p.name} · ${v.name} · ${formatMoney(pr.price, pr.currency)} / ${periodWord(pr.cycle)}`,
    }))));
}

/** An amount above zero (a fee, a discount worth saying). */
function isPositive(amount: string): boolean {
  const m = toMicros(amount);
  return m !== null && m > 0n;
}

/** What adding `c` charges, in words and the catalog's figures (the rule; the quote gives the amount). */
export function addOnTerms(s: PortalSubscription, c: AddOnChoice): string {
  const fee = isPositive(c.activationFee) ? `, plus a one-time activation fee of ${formatMoney(c.activationFee, c.currency)}` : '';
  return `Charged now from your points: ${formatMoney(c.price, c.currency)} per unit per ${periodWord(c.cycle)}, pro rata to ${formatDate(s.currentPeriodEnd)}${fee}, `
    + 'plus tax, less any discount you have. From then on it renews with the subscription.';
}

export function addOnLabel(a: Pick<PortalAddOn, 'productName' | 'variantName'>): string {
  return `${a.productName} · ${a.variantName}`;
}

/** An add-on's quantity as its row shows it, with a lower quantity planned for the renewal: "× 3, 1 from 7 Jan 2027". */
export function addOnQuantityText(s: PortalSubscription, a: PortalAddOn): string {
  if (a.pendingQuantity === null) return `× ${a.quantity}`;
  if (a.pendingQuantity === 0) return `× ${a.quantity}, removed on ${formatDate(s.currentPeriodEnd)}`;
  return `× ${a.quantity}, ${a.pendingQuantity} from ${formatDate(s.currentPeriodEnd)}`;
}

export type QuantityChange = 'raise' | 'lower' | 'remove' | 'cancel' | 'none';

/**
 * What changing an add-on's quantity to `next` does (changeAddOnQuantity): higher is charged now, pro rata, with no
 * activation fee again; lower (0 removes it) takes effect at the next renewal, nothing refunded; the current quantity
 * again cancels a lower one planned.
 */
export function quantityChange(s: PortalSubscription, a: PortalAddOn, next: number): { kind: QuantityChange; text: string } {
  const end = formatDate(s.currentPeriodEnd);
  if (next > a.quantity) {
    const more = next - a.quantity;
    return {
      kind: 'raise',
      text: `${more} more ${more === 1 ? 'unit is' : 'units are'} charged now from your points, pro rata to ${end}, plus tax (no activation fee again).`,
    };
  }
  if (next < a.quantity) {
    return {
      kind: next === 0 ? 'remove' : 'lower',
      text: `${next === 0 ? 'It is removed' : `It goes down to ${next}`} at the next renewal, on ${end}. Nothing is refunded: the ${a.quantity} you have stay until then.`,
    };
  }
  if (a.pendingQuantity !== null) {
    return { kind: 'cancel', text: `The change planned for ${end} (to ${a.pendingQuantity}) is cancelled: it stays at ${a.quantity}.` };
  }
  return { kind: 'none', text: `It is at ${a.quantity} already.` };
}

/** `GET /api/v1/portal/subscriptions/{id}`: a history item, with what a change charged (the server's figure, tax included). */
export interface HistoryItem {
  kind: string;
  amount: string | null;
  invoiceNumber: string | null;
}

/**
 * The newest history item of `kind` with an amount: what the change just made charged. The answer of an add-on route is
 * the subscription, without the charge; its history has it, as the server computed it.
 */
export function latestCharge(history: readonly HistoryItem[], kind: string): HistoryItem | null {
  const first = history.find((h) => h.kind === kind);
  return first && first.amount !== null ? first : null;
}

/** What a change charged, said after it: the history's amount (tax included) and its Purchase invoice. */
export function chargedText(charged: HistoryItem, currency: string): string {
  return `${formatMoney(charged.amount ?? '0', currency)} was charged from your points (tax included)${charged.invoiceNumber ? `; its Purchase invoice ${charged.invoiceNumber} is under Invoices` : ''}.`;
}

/** `GET /api/v1/portal/subscriptions/{id}/add-ons/quote` and `.../add-ons/{addOnId}/quote` (src/subscriptions/quote-add-on.ts). */
export interface AddOnQuote {
  version: number;
  currency: string;
  outcome: 'charge_now' | 'at_renewal' | 'no_change';
  units: number;
  until: string;
  daysCharged: number | null;
  daysInPeriod: number | null;
  price: string;
  discount: string;
  activationFee: string;
  tax: string;
  total: string;
  usable: string;
  coveredByPoints: boolean;
}

/**
 * The server's quote in a sentence: the total taken from points now and what it is made of (the days charged, a discount,
 * an activation fee, the tax), all the server's figures; null when the change charges nothing now (the rule says why).
 */
export function addOnQuoteText(q: AddOnQuote): string | null {
  if (q.outcome !== 'charge_now') return null;
  const money = (amount: string) => formatMoney(amount, q.currency);
  const parts = [`${money(q.price)} for ${q.daysCharged} of ${q.daysInPeriod} days, to ${formatDate(q.until)}`];
  if (isPositive(q.discount)) parts.push(`less a discount of ${money(q.discount)}`);
  if (isPositive(q.activationFee)) parts.push(`a one-time activation fee of ${money(q.activationFee)}`);
  parts.push(`tax ${money(q.tax)}`);
  return `${money(q.total)} is charged now from your points: ${parts.join(', ')}.`;
}

/** Points that do not cover the quote, said before the change is tried: null when they cover it. */
export function addOnShortfallText(q: AddOnQuote): string | null {
  if (q.coveredByPoints) return null;
  return `Your usable points (${formatMoney(q.usable, q.currency)}) do not cover the ${formatMoney(q.total, q.currency)} it costs now.`;
}
