import { sql } from 'kysely';
import { formatDecimal, isCurrency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';

/**
 * Invariant 7 when a payment is reversed: credit notes that gave points or refunded money on an invoice never exceed what
 * was paid on it. A reversal takes `reopened` (micros per invoice id) off the invoices' amount paid; if the issued
 * points/refund credit notes of one of them would then exceed what is left paid, the reversal is refused (409
 * `state_conflict`), writing nothing: the money was given back once already, so Finance first decides how to recover it.
 * Call it inside the reversal's transaction, after the invoices are locked.
 */
export async function assertReversalKeepsCreditNotes(trx: Trx, partnerId: string, reopened: ReadonlyMap<string, bigint>): Promise<void> {
  if (reopened.size === 0) return;
  const ids = [...reopened.keys()];
  const { rows } = await sql<{ id: string; number: string | null; currency: string; paid: string; paidOut: string }>`
    select i.id, i.number, i.currency, i.amount_paid_micros::text as paid, coalesce(sum(n.total_micros), 0)::text as "paidOut"
    from invoices i join credit_notes n on n.invoice_id = i.id and n.status = 'issued' and n.outcome in ('points', 'refund')
    where i.partner_id = ${partnerId} and i.id = any(${ids}::text[])
    group by i.id`.execute(trx);
  for (const r of rows) {
    const left = BigInt(r.paid) - reopened.get(r.id)!;
    if (BigInt(r.paidOut) > left) {
      const fmt = (m: bigint) => (isCurrency(r.currency) ? `${formatDecimal(m, r.currency)} ${r.currency}` : m.toString());
      throw new DomainError('state_conflict', `Invoice ${r.number ?? r.id}: credit notes already gave back ${fmt(BigInt(r.paidOut))} as points or refunds; `
        + `reversing this payment would leave only ${fmt(left < 0n ? 0n : left)} paid on it. Recover the credit first.`);
    }
  }
}
