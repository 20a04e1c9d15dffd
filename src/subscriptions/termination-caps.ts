import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { moneyText, roundToMinorUnit, type Currency } from '../money/money.ts';
import type { Refund } from './refunds.ts';

/** A current-period charge as the cap sees it: what it took (tax included) and the invoice that billed it. */
export interface BilledCharge {
  totalMicros: bigint;
  invoiceId: string | null;
}

/** What is left to give back on an invoice: paid, less what credit notes and earlier termination refunds gave back. */
export interface InvoiceRefundRoom {
  invoiceId: string;
  number: string | null;
  amountDueMicros: bigint;
  informational: boolean;
  leftMicros: bigint;
}

export interface CappedRefund {
  refund: Refund;
  /** What the (capped) refund gives back against each invoice, in charge order; only invoices with more than zero. */
  byInvoice: Map<string, bigint>;
  /** What the refund would have been without the cap, less what it is (0 when nothing was credited before). */
  withheldMicros: bigint;
}

/**
 * Lock (unless told not to) the invoices that billed the charges (in id order: one lock order with credit notes, which lock the wallet first,
 * as the termination did) and read what is left to give back on each. An invoice with something still due refuses the
 * termination (409 state_conflict): the refund is of money paid, so what is owed must be paid or credited first.
 */
export async function invoiceRefundRooms(
  trx: Trx, partnerId: string, invoiceIds: readonly string[], forPortal: boolean, options: { lock: boolean } = { lock: true },
): Promise<Map<string, InvoiceRefundRoom>> {
  const ids = [...new Set(invoiceIds)].sort();
  if (ids.length === 0) return new Map();
  // A quote (quote-termination.ts) reads them without locking: it writes nothing, and the termination reads them again.
  const invoices = await trx.selectFrom('invoices').select(['id', 'number', 'informational', 'amountDueMicros', 'amountPaidMicros', 'currency'])
    .where('partnerId', '=', partnerId).where('id', 'in', ids).orderBy('id').$if(options.lock, (q) => q.forUpdate()).execute();
  const givenBack = await sql<{ invoiceId: string; micros: string }>`
    select invoice_id as "invoiceId", sum(micros)::text as micros from (
      select invoice_id, total_micros as micros from credit_notes
      where partner_id = ${partnerId} and invoice_id = any(${ids}::text[]) and status = 'issued' and outcome in ('points', 'refund')
      union all
      select invoice_id, amount_micros from subscription_refund_invoices where partner_id = ${partnerId} and invoice_id = any(${ids}::text[])
    ) g group by invoice_id`.execute(trx);
  const back = new Map(givenBack.rows.map((r) => [r.invoiceId, BigInt(r.micros)]));
  const rooms = new Map<string, InvoiceRefundRoom>();
  for (const inv of invoices) {
    const due = BigInt(inv.amountDueMicros);
    if (due > 0n && !inv.informational) {
      const what = `Invoice ${inv.number ?? inv.id} has ${moneyText(due, inv.currency)} due for this subscription`;
      throw new DomainError('state_conflict', forPortal
        ? `${what}: pay it, or ask your provider to cancel the subscription`
        : `${what}: the refund gives back money paid, so settle the invoice or credit what is due (reduce due) first`);
    }
    const left = BigInt(inv.amountPaidMicros) - (back.get(inv.id) ?? 0n);
    rooms.set(inv.id, { invoiceId: inv.id, number: inv.number, amountDueMicros: due, informational: inv.informational, leftMicros: left > 0n ? left : 0n });
  }
  return rooms;
}

/**
 * Cap a termination refund by what is left to give back on the invoices that billed its charges (ledger-design invariant
 * 7: what is refunded or turned into points never exceeds what was paid on an invoice). The refund is spread over the
 * charges in order, each taking at most what it took and what its invoice has left; what no charge can take is withheld.
 * A capped refund keeps its shape: price and cost in proportion (rounded once), tax the rest.
 */
export function capRefund(currency: Currency, refund: Refund, charges: readonly BilledCharge[], rooms: ReadonlyMap<string, InvoiceRefundRoom>): CappedRefund {
  const totalMicros = refund.priceMicros + refund.taxMicros;
  const left = new Map([...rooms].map(([id, r]) => [id, r.leftMicros]));
  const byInvoice = new Map<string, bigint>();
  let remaining = totalMicros;
  for (const c of charges) {
    if (remaining === 0n) break;
    const room = c.invoiceId === null ? c.totalMicros : (left.get(c.invoiceId) ?? 0n);
    const take = [remaining, c.totalMicros, room].reduce((a, b) => (b < a ? b : a));
    if (take <= 0n) continue;
    remaining -= take;
    if (c.invoiceId !== null) {
      left.set(c.invoiceId, room - take);
      byInvoice.set(c.invoiceId, (byInvoice.get(c.invoiceId) ?? 0n) + take);
    }
  }
  if (remaining === 0n) return { refund, byInvoice, withheldMicros: 0n };
  const allowed = totalMicros - remaining;
  const priceMicros = totalMicros === 0n ? 0n : roundToMinorUnit(refund.priceMicros, currency, allowed, totalMicros);
  const costMicros = totalMicros === 0n ? 0n : roundToMinorUnit(refund.costMicros, currency, allowed, totalMicros);
  return {
    refund: { ...refund, priceMicros, taxMicros: allowed - priceMicros, costMicros },
    byInvoice, withheldMicros: remaining,
  };
}
