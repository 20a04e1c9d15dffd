import { sql } from 'kysely';
import type { Executor } from '../platform/database.ts';

/**
 * Invariant 7 (../shared/ledger-design.md), checkable on a live database, called by checkLedger: per invoice, issued credit
 * notes never exceed its total; those that gave points or refunded, with the termination refunds of subscriptions it billed,
 * never exceed what was paid on it; and the invoice's
 * amount credited is exactly what its issued `reduce_due` credit notes took off its due. At most `listedPerPartner` invoices
 * per partner, in id order.
 */
export async function checkCreditNotes(db: Executor, partnerId: string | null, listedPerPartner: number): Promise<Array<{ invariant: 'credit_notes_within_invoice'; partnerId: string; subject: string; detail: string }>> {
  const { rows } = await sql<{ id: string; partnerId: string; total: string; paid: string; credited: string; notes: string; paidOut: string; terminated: string; reduced: string }>`
    select * from (
      select i.id, i.partner_id as "partnerId", i.total_micros::text as total, i.amount_paid_micros::text as paid, i.amount_credited_micros::text as credited,
        coalesce(sum(n.total_micros), 0)::text as notes,
        coalesce(sum(n.total_micros) filter (where n.outcome in ('points', 'refund')), 0)::text as "paidOut",
        t.micros::text as terminated,
        coalesce(sum(n.total_micros) filter (where n.outcome = 'reduce_due'), 0)::text as reduced,
        row_number() over (partition by i.partner_id order by i.id) as listed
      from invoices i left join credit_notes n on n.invoice_id = i.id and n.status = 'issued'
      cross join lateral (select coalesce(sum(r.amount_micros), 0) as micros from subscription_refund_invoices r
                          where r.partner_id = i.partner_id and r.invoice_id = i.id) t
      where (${partnerId}::text is null or i.partner_id = ${partnerId})
        and (i.amount_credited_micros > 0 or exists (select 1 from credit_notes c where c.invoice_id = i.id and c.status = 'issued')
             or exists (select 1 from subscription_refund_invoices r where r.partner_id = i.partner_id and r.invoice_id = i.id))
      group by i.id, t.micros
      having coalesce(sum(n.total_micros), 0) > i.total_micros
        or coalesce(sum(n.total_micros) filter (where n.outcome in ('points', 'refund')), 0) + t.micros > i.amount_paid_micros
        or coalesce(sum(n.total_micros) filter (where n.outcome = 'reduce_due'), 0) <> i.amount_credited_micros
    ) x where listed <= ${listedPerPartner}`.execute(db);
  return rows.map((r) => ({
    invariant: 'credit_notes_within_invoice' as const,
    partnerId: r.partnerId,
    subject: `invoice ${r.id}`,
    detail: `invoice ${r.id}: total ${r.total}, paid ${r.paid}, credited ${r.credited}; issued credit notes ${r.notes}, of which to points or refunded ${r.paidOut}; termination refunds ${r.terminated}; reducing the due ${r.reduced}`,
  }));
}
