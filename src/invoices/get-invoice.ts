import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { partnerCaller } from '../access/caller.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';
import { loadInvoiceDetail, loadInvoiceLogoOf } from './invoice-views.ts';
import { renderInvoicePdf } from './pdf/render-invoice-pdf.ts';

/** A strong ETag of an invoice's version (its `updated_at` to the microsecond). */
export function invoiceEtag(invoiceId: string, version: string): string {
  return `"${sha256Hex(`${invoiceId}:${version}`).slice(0, 32)}"`;
}

/** The invoice's version, for its ETag. */
export async function invoiceVersion(db: Executor, partnerId: string, invoiceId: string): Promise<string | undefined> {
  const row = await db.selectFrom('invoices')
    .select(sql<string>`(extract(epoch from updated_at) * 1000000)::bigint::text`.as('version'))
    .where('partnerId', '=', partnerId).where('id', '=', invoiceId).executeTakeFirst();
  return row?.version;
}


/** One invoice of the partner (another partner's is "not found"), with an ETag while it is a draft (it can still change). */
export async function getInvoice(ctx: Ctx, input: { invoiceId: string }): Promise<{ invoice: InvoiceDetail; etag: string | null }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const found = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const invoice = await loadInvoiceDetail(trx, { partnerId, invoiceId: input.invoiceId, now: ctx.clock.now() });
    if (!invoice) return null;
    const etag = invoice.status === 'draft' ? invoiceEtag(invoice.id, (await invoiceVersion(trx, partnerId, invoice.id))!) : null;
    return { invoice, etag };
  });
  if (!found) throw notFound('Invoice');
  return found;
}

/** The invoice as a PDF (the same figures as the screen), named after its number, or its id while a draft. */
export async function getInvoicePdf(ctx: Ctx, input: { invoiceId: string }): Promise<{ filename: string; pdf: Buffer }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const found = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const detail = await loadInvoiceDetail(trx, { partnerId, invoiceId: input.invoiceId, now: ctx.clock.now() });
    return detail ? { detail, logo: await loadInvoiceLogoOf(trx, partnerId, detail.id) } : null;
  });
  if (!found) throw notFound('Invoice');
  const pdf = await renderInvoicePdf(found.detail, { logo: found.logo, generatedAt: ctx.clock.now() });
  return { filename: `${(found.detail.number ?? found.detail.id).replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`, pdf };
}
