import { formatDate } from './format.ts';
import { formatMoney, toMicros } from './money.ts';

/**
 * What the portal and the Customer app say about add-ons (src/subscriptions/add-add-on.ts, change-add-on-quantity.ts,
 * add-ons.ts), to the customer in the portal (`you`: "charged now from your points") or to staff about the customer
 * (`customer`: "charged now from the customer's points"). Before a change, the server's quote
 * (src/subscriptions/quote-add-on.ts) gives the amount, beside the rule in words with the catalog's own figures; after
 * it, what was charged is read back from the subscription's history: the browser computes no money.
 */
export type Audience = 'you' | 'customer';

/** An add-on as both subscription lists give it (the staff one adds its cost). */
export interface AddOnView {
  id: string;
  productName: string;
  variantName: string;
  priceId: string;
  quantity: number;
  /** What the next renewal lowers the quantity to (0 removes it); null: no change planned. */
  pendingQuantity: number | null;
  /** Per period, at the quantity the next renewal charges, after its discount, before tax. */
  renewalPrice: string;
}

/** What the add-on sentences and dialogs read of a subscription, in the portal's view and the staff one alike. */
export interface AddOnSubscription {
  id: string;
  /** The subscription's own catalog price: never one of its add-ons (the API refuses it). */
  priceId: string;
  productName: string;
  variantName: string;
  cycle: 'monthly' | 'yearly';
  currency: string;
  status: 'pending_payment' | 'active' | 'expired' | 'terminated';
  currentPeriodEnd: string | null;
  addOns: readonly AddOnView[];
  /** Bumped by every change: an update's If-Match is its ETag (`versionEtag`). */
  version: number;
}

/** A catalog product with the prices on sale, in the portal catalog's shape (the Customer app maps its own to it). */
export interface AddOnCatalogProduct {
  name: string;
  variants: ReadonlyArray<{ name: string; prices: ReadonlyArray<{ priceId: string; cycle: 'monthly' | 'yearly'; currency: string; price: string; activationFee: string }> }>;
}

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

/** "your points" or "the customer's points": whose points a charge is taken from. */
function points(to: Audience): string {
  return to === 'you' ? 'your points' : 'the customer\'s points';
}

/** "month" or "year": the period a cycle bills. */
export function periodWord(cycle: 'monthly' | 'yearly'): string {
  return cycle === 'monthly' ? 'month' : 'year';
}

/**
 * Which add-on changes the API takes on `s` for a customer of `account` status: `add` one inside the current period (a
 * sale: an active customer only), and change their quantities there: `any`, or `lower` only for a suspended or closed
 * customer (more units are a sale, findBuyingCustomer), null when the subscription takes no add-on changes (not active,
 * or its period has ended: 409 even before the job expires it). `today` is a UTC day.
 */
export function addOnActions(s: Pick<AddOnSubscription, 'status' | 'currentPeriodEnd'>, account: 'active' | 'suspended' | 'closed', today: string): { add: boolean; change: 'any' | 'lower' | null } {
  const inPeriod = s.status === 'active' && s.currentPeriodEnd !== null && today < s.currentPeriodEnd;
  return { add: inPeriod && account === 'active', change: !inPeriod ? null : account === 'active' ? 'any' : 'lower' };
}

/**
 * The prices the API accepts as an add-on of `s` (addAddOn): on sale, in the subscription's currency and cycle, not its
 * own price, and not already one of its add-ons (that one's quantity is changed instead). In the catalog's order.
 */
export function addOnChoices(catalog: readonly AddOnCatalogProduct[], s: AddOnSubscription): AddOnChoice[] {
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
export function addOnTerms(s: AddOnSubscription, c: AddOnChoice, to: Audience = 'you'): string {
  const fee = isPositive(c.activationFee) ? `, plus a one-time activation fee of ${formatMoney(c.activationFee, c.currency)}` : '';
  return `Charged now from ${points(to)}: ${formatMoney(c.price, c.currency)} per unit per ${periodWord(c.cycle)}, pro rata to ${formatDate(s.currentPeriodEnd)}${fee}, `
    + `plus tax, less any discount ${to === 'you' ? 'you have' : 'the customer has'}. From then on it renews with the subscription.`;
}

/** "Product · Variant": an add-on, or a subscription, as the lists and dialogs name it. */
export function addOnLabel(a: { productName: string; variantName: string }): string {
  return `${a.productName}${a.variantName ? ` · ${a.variantName}` : ''}`;
}

/**
 * Whether a subscription's add-ons ended with it: a terminated subscription's are listed as what it had, never as live
 * (no renewal price, no lower quantity planned for a renewal that will not come, nothing to change: the API refuses every
 * add-on change on it, 409). An expired one's are not: reactivating it renews them with it.
 */
export function addOnsEnded(s: Pick<AddOnSubscription, 'status'>): boolean {
  return s.status === 'terminated';
}

/** What an add-on that ended with its subscription says in place of its renewal price. */
export const ADD_ON_ENDED_TEXT = 'Ended with the subscription';

/** An add-on's row in its subscription's list: its quantity, then its renewal price per period, or that it ended. */
export function addOnRowText(s: Pick<AddOnSubscription, 'status' | 'currentPeriodEnd' | 'currency' | 'cycle'>, a: AddOnView): { ended: boolean; quantity: string; after: string } {
  const ended = addOnsEnded(s);
  return {
    ended,
    quantity: `+ ${addOnLabel(a)} ${addOnQuantityText(s, a)}`,
    after: ended ? ADD_ON_ENDED_TEXT : `${formatMoney(a.renewalPrice, s.currency)} / ${periodWord(s.cycle)}`,
  };
}

/**
 * An add-on's quantity as its row shows it, with a lower quantity planned for the renewal: "× 3, 1 from 7 Jan 2027"; an
 * add-on that ended with its subscription, what it had: "× 3".
 */
export function addOnQuantityText(s: Pick<AddOnSubscription, 'status' | 'currentPeriodEnd'>, a: AddOnView): string {
  if (a.pendingQuantity === null || addOnsEnded(s)) return `× ${a.quantity}`;
  if (a.pendingQuantity === 0) return `× ${a.quantity}, removed on ${formatDate(s.currentPeriodEnd)}`;
  return `× ${a.quantity}, ${a.pendingQuantity} from ${formatDate(s.currentPeriodEnd)}`;
}

/** What the Change dialog says the add-on has now, with a lower quantity planned: "You have 3 (1 from the next renewal)." */
export function addOnHasText(a: AddOnView, to: Audience = 'you'): string {
  return `${to === 'you' ? 'You have' : 'The customer has'} ${a.quantity}${a.pendingQuantity !== null ? ` (${a.pendingQuantity} from the next renewal)` : ''}.`;
}

/** Why only a lower quantity can be chosen: the organisation (the customer) is suspended or closed. */
export function lowerOnlyText(to: Audience = 'you'): string {
  return to === 'you' ? 'Your account is not active: the quantity can only be lowered.' : 'The customer is not active: the quantity can only be lowered.';
}

export type QuantityChange = 'raise' | 'lower' | 'remove' | 'cancel' | 'none';

/**
 * What changing an add-on's quantity to `next` does (changeAddOnQuantity): higher is charged now, pro rata, with no
 * activation fee again; lower (0 removes it) takes effect at the next renewal, nothing refunded; the current quantity
 * again cancels a lower one planned.
 */
export function quantityChange(s: Pick<AddOnSubscription, 'currentPeriodEnd'>, a: AddOnView, next: number, to: Audience = 'you'): { kind: QuantityChange; text: string } {
  const end = formatDate(s.currentPeriodEnd);
  if (next > a.quantity) {
    const more = next - a.quantity;
    return {
      kind: 'raise',
      text: `${more} more ${more === 1 ? 'unit is' : 'units are'} charged now from ${points(to)}, pro rata to ${end}, plus tax (no activation fee again).`,
    };
  }
  if (next < a.quantity) {
    return {
      kind: next === 0 ? 'remove' : 'lower',
      text: `${next === 0 ? 'It is removed' : `It goes down to ${next}`} at the next renewal, on ${end}. Nothing is refunded: the ${a.quantity} ${to === 'you' ? 'you have' : 'the customer has'} stay until then.`,
    };
  }
  if (a.pendingQuantity !== null) {
    return { kind: 'cancel', text: `The change planned for ${end} (to ${a.pendingQuantity}) is cancelled: it stays at ${a.quantity}.` };
  }
  return { kind: 'none', text: `It is at ${a.quantity} already.` };
}

/** `GET .../subscriptions/{id}`: a history item, with what a change charged (the server's figure, tax included). */
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
export function chargedText(charged: HistoryItem, currency: string, to: Audience = 'you'): string {
  const invoice = !charged.invoiceNumber ? '' : to === 'you' ? `; its Purchase invoice ${charged.invoiceNumber} is under Invoices` : `, on Purchase invoice ${charged.invoiceNumber}`;
  return `${formatMoney(charged.amount ?? '0', currency)} was charged from ${points(to)} (tax included)${invoice}.`;
}

/** After a change that charged, when its amount could not be read back: where to find it (the change is done). */
export function unsaidChargeText(to: Audience = 'you'): string {
  return to === 'you' ? 'It was charged from your points: see the transactions under Points.' : 'It was charged from the customer\'s points: see its Transactions tab.';
}

/** `GET .../subscriptions/{id}/add-ons/quote` and `.../add-ons/{addOnId}/quote` (src/subscriptions/quote-add-on.ts). */
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
export function addOnQuoteText(q: AddOnQuote, to: Audience = 'you'): string | null {
  if (q.outcome !== 'charge_now') return null;
  const money = (amount: string) => formatMoney(amount, q.currency);
  const parts = [`${money(q.price)} for ${q.daysCharged} of ${q.daysInPeriod} days, to ${formatDate(q.until)}`];
  if (isPositive(q.discount)) parts.push(`less a discount of ${money(q.discount)}`);
  if (isPositive(q.activationFee)) parts.push(`a one-time activation fee of ${money(q.activationFee)}`);
  parts.push(`tax ${money(q.tax)}`);
  return `${money(q.total)} is charged now from ${points(to)}: ${parts.join(', ')}.`;
}

/** Points that do not cover the quote, said before the change is tried: null when they cover it. */
export function addOnShortfallText(q: AddOnQuote, to: Audience = 'you'): string | null {
  if (q.coveredByPoints) return null;
  return `${to === 'you' ? 'Your' : 'The customer\'s'} usable points (${formatMoney(q.usable, q.currency)}) do not cover the ${formatMoney(q.total, q.currency)} it costs now.`;
}

/** Nothing in the catalog can be added to `s`: why, in the audience's words. */
export function noChoicesText(s: Pick<AddOnSubscription, 'cycle' | 'currency'>, to: Audience = 'you'): string {
  const seller = to === 'you' ? 'your provider sells' : 'the catalog has';
  return `Nothing can be added: ${seller} no other ${s.cycle} plan in ${s.currency}, or it is on this subscription already.`;
}
