import { sql } from 'kysely';
import type { Db, Trx } from '../platform/database.ts';
import { MICROS_PER_UNIT, applyBps } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { newId } from '../platform/ids.ts';
import { issueInvoice } from './issue-invoice.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };
const units = (n: bigint) => n * MICROS_PER_UNIT;

/** How Demo Telecom appears on its invoices and PDFs (always seeded: tests and the demo print the same header). */
export async function seedInvoiceBrandingDemo(trx: Trx, ids: { partnerId: string }): Promise<void> {
  await trx.updateTable('partnerSettings').set({
    invoiceLegalName: 'Demo Telecom Pte Ltd',
    invoiceAddress: '1 Raffles Place, #20-01\nSingapore 048616',
    invoiceTaxId: 'M2-1234567-8',
    invoiceEmail: 'billing@demo-telecom.test',
    invoicePaymentInstructions: 'Pay in the portal (points first, then card), or by bank transfer to DBS 012-345678-9 quoting the invoice number.',
  }).where('partnerId', '=', ids.partnerId).execute();
}

/**
 * Invoices for the first run (with activity): Acme has two Purchase invoices waiting — one its 50.00 points can pay, one
 * that needs points and a card — and one already overdue, so the portal's Home > Invoice and the Invoice app have
 * something to show. 9% GST on each, posted Dr receivable / Cr revenue / Cr tax.
 */
export async function seedInvoicesDemo(trx: Trx, ids: { partnerId: string; acmeId: string; now?: Date }): Promise<DemoInvoiceEntry[]> {
  const issued: DemoInvoiceEntry[] = [];
  const now = ids.now ?? new Date();
  const demo: { description: string; preTax: bigint; daysAgo: number }[] = [
    { description: 'Call recording add-on — setup', preTax: units(20n), daysAgo: 2 },
    { description: 'Wallboard Pro — 12 agent seats (one-off licence)', preTax: units(180n), daysAgo: 1 },
    { description: 'Porting of 5 numbers', preTax: units(35n), daysAgo: 30 },
  ];
  for (const d of demo) {
    const issuedAt = new Date(now.getTime() - d.daysAgo * 86_400_000);
    const tax = applyBps(d.preTax, 900, 'SGD');
    const invoiceId = newId('inv');
    const auditEventId = await recordAudit(trx, SEED_ACTOR, {
      partnerId: ids.partnerId, customerId: ids.acmeId, app: 'invoice', action: 'invoice.issued', targetType: 'invoice', targetId: invoiceId,
      changes: { description: { after: d.description } },
    });
    const invoice = await issueInvoice(trx, {
      id: invoiceId, partnerId: ids.partnerId, customerId: ids.acmeId, type: 'purchase', currency: 'SGD', issuedAt,
      lines: [{ kind: 'product', description: d.description, amountMicros: d.preTax, taxMicros: tax, taxCategory: 'standard', taxRateBps: 900, revenueCode: 'revenue:one_time' }],
      entry: { kind: 'invoice_issued', causeType: 'invoice', causeId: invoiceId, description: `Invoice issued: ${d.description}`, auditEventId },
    });
    issued.push({ entryId: invoice.entryId, issuedAt });
  }
  return issued;
}

export interface DemoInvoiceEntry {
  entryId: string;
  issuedAt: Date;
}

/**
 * The demo invoices' entries dated to their issue (as the demo month's calls are, src/invoices/statements/demo-statement.ts):
 * the trial balance at a past day then holds the receivable that AR aging shows for it. The entry and all its postings
 * carry the one instant. Skipping the append-only trigger takes a superuser (the embedded server's owner is one); another
 * owner keeps them at the seed's time (false).
 */
export async function dateDemoInvoices(owner: Db, entries: readonly DemoInvoiceEntry[]): Promise<boolean> {
  if (entries.length === 0) return true;
  try {
    await owner.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      const ids = entries.map((e) => e.entryId);
      const ats = entries.map((e) => e.issuedAt.toISOString());
      await sql`with dated (entry_id, at) as (select * from unnest(${ids}::text[], ${ats}::timestamptz[])),
                  entries as (update journal_entries j set posted_at = dated.at from dated where j.id = dated.entry_id returning j.id)
                update postings p set posted_at = dated.at from dated where p.entry_id = dated.entry_id`.execute(trx);
    });
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === '42501') return false; // insufficient privilege
    throw err;
  }
}
