import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope, type Executor, type Trx } from '../platform/database.ts';
import type { InvoiceStatus, InvoiceType } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { portalCaller, seesCompanyCredits, type PortalCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { formatDecimal, parseAmount, type Currency } from '../money/money.ts';
import { invoiceDetailSchema, invoiceSummaryQuery, invoiceSummarySchema, loadInvoiceDetail, loadInvoiceLogoOf, toInvoiceSummary, type InvoiceSummaryRow } from './invoice-views.ts';
import type { InvoiceDetail, InvoiceSummary } from './invoice-view-types.ts';
import { notPayableReason, rolePayReason } from './pay-invoice.ts';
import { renderInvoicePdf } from './pdf/render-invoice-pdf.ts';

/** The portal's answer adds whether this user may pay it, and why not (no `$` without a reason the user can read). */
const payability = { canPay: z.boolean(), cannotPayReason: z.string().nullable() };
export const portalInvoiceSummarySchema = invoiceSummarySchema.extend(payability);
/** A payment made (or being made) in the portal: a pending card payment can be followed, a failed one explains itself. */
export const portalPaymentAttemptSchema = z.object({
  id: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  amount: z.string(),
  pointsUsed: z.string().describe('points it took (held, while pending); 0 when it failed: the points were released'),
  cardAmount: z.string().describe('what it asked of the card'),
  failureReason: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export const portalInvoiceDetailSchema = invoiceDetailSchema.extend({
  ...payability,
  paymentAttempts: z.array(portalPaymentAttemptSchema).describe('the latest portal payments of this invoice (at most 10), newest first'),
});
export type PortalPaymentAttempt = z.infer<typeof portalPaymentAttemptSchema>;
export type PortalInvoiceSummary = InvoiceSummary & { canPay: boolean; cannotPayReason: string | null };

export interface PortalListInvoicesInput {
  limit: number;
  cursor?: string | undefined;
  type?: InvoiceType | undefined;
  status?: Exclude<InvoiceStatus, 'draft'> | undefined;
  /** Issued on or after this day (UTC, `YYYY-MM-DD`). */
  issuedFrom?: string | undefined;
  /** Issued on or before this day (UTC, `YYYY-MM-DD`). */
  issuedTo?: string | undefined;
}

const CURSOR = /^inv_[0-9a-z]{10,40}$/;

function payabilityOf(caller: PortalCaller, row: Pick<InvoiceSummaryRow, 'type' | 'status' | 'informational' | 'amountDueMicros'>) {
  const reason = notPayableReason(row) ?? rolePayReason(caller.role);
  return { canPay: reason === null, cannotPayReason: reason };
}

/** The organisation's issued invoices (never drafts), newest issued first, with filters by type, status and issue date. */
/**
 * The invoice types a portal user sees. Members and guests cannot see company credits (domain.md): a Top-up invoice
 * (points bought) and a Monthly statement (points at the start and end of the month, what they paid for) show them,
 * so they see Purchase invoices only; owners and admins see every type.
 */
export function invoiceTypesSeenBy(role: PortalCaller['role']): readonly InvoiceType[] {
  return seesCompanyCredits(role) ? ['purchase', 'monthly', 'top_up'] : ['purchase'];
}


export async function portalListInvoices(ctx: Ctx, input: PortalListInvoicesInput): Promise<Page<PortalInvoiceSummary>> {
  const caller = portalCaller(ctx.principal);
  if (input.cursor !== undefined && !CURSOR.test(input.cursor)) {
    throw new DomainError('validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor from this list' }]);
  }
  if (input.issuedFrom && input.issuedTo && input.issuedFrom > input.issuedTo) {
    throw new DomainError('rule_violation', 'issuedFrom is after issuedTo', [{ path: 'issuedFrom', message: 'on or before issuedTo' }]);
  }
  const now = ctx.clock.now();
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const rows = await invoiceSummaryQuery(trx, caller.partnerId)
      .where('i.customerId', '=', caller.customerId)
      .where('i.status', '<>', 'draft')
      .where('i.type', 'in', invoiceTypesSeenBy(caller.role))
      .$if(!seesCompanyCredits(caller.role), (q) => q.where(notPointsDebitNote))
      .$if(input.type !== undefined, (q) => q.where('i.type', '=', input.type!))
      .$if(input.status !== undefined, (q) => q.where('i.status', '=', input.status!))
      .$if(input.issuedFrom !== undefined, (q) => q.where('i.issuedAt', '>=', new Date(`${input.issuedFrom!}T00:00:00Z`)))
      .$if(input.issuedTo !== undefined, (q) => q.where('i.issuedAt', '<', new Date(new Date(`${input.issuedTo!}T00:00:00Z`).getTime() + 86_400_000)))
      // Newest issued first (a draft issued late is still the newest); the cursor is the last invoice of the page before.
      .$if(input.cursor !== undefined, (q) => q.where(sql<boolean>`(i.issued_at, i.id) < (select c.issued_at, c.id from invoices c
          where c.partner_id = ${caller.partnerId} and c.customer_id = ${caller.customerId} and c.id = ${input.cursor!})`))
      .orderBy('i.issuedAt', 'desc').orderBy('i.id', 'desc')
      .limit(input.limit + 1)
      .execute();
    return pageOf(rows.map((r) => ({ ...toInvoiceSummary(r, now), ...payabilityOf(caller, r) })), input.limit);
  });
}

/**
 * The journal-entry kinds of a debit note billing points already spent: a reversed payment's (src/payments/
 * reversal-debit-note.ts) or an ended credit limit's. Such a Purchase invoice is all about the company's points (how many
 * were spent, the credit limit, what was added back), so members and guests, who do not see company credits, do not see it.
 */
const POINTS_DEBIT_NOTE_KINDS = ['payment_reversal_receivable', 'credit_limit_expired_receivable'] as const;
const notPointsDebitNote = sql<boolean>`not exists (select 1 from journal_entries j where j.partner_id = i.partner_id and j.cause_type = 'invoice'
  and j.cause_id = i.id and j.kind in (${sql.join(POINTS_DEBIT_NOTE_KINDS)}))`;

/** Whether the invoice is a debit note of points (members and guests never see one, nor its credit notes or receipts). */
export async function isPointsDebitNote(trx: Executor, partnerId: string, invoiceId: string): Promise<boolean> {
  const found = await trx.selectFrom('journalEntries').select('id')
    .where('partnerId', '=', partnerId).where('causeType', '=', 'invoice').where('causeId', '=', invoiceId).where('kind', 'in', POINTS_DEBIT_NOTE_KINDS)
    .limit(1).executeTakeFirst();
  return found !== undefined;
}

/**
 * The invoice as its customer may see it (never a draft; only the types the user's role sees; for members and guests no
 * debit note of points), in the caller's transaction; 404 otherwise.
 */
async function visibleDetail(trx: Trx, caller: PortalCaller, invoiceId: string, now: Date): Promise<InvoiceDetail> {
  const detail = await loadInvoiceDetail(trx, { partnerId: caller.partnerId, customerId: caller.customerId, invoiceId, now });
  if (!detail || detail.status === 'draft' || !invoiceTypesSeenBy(caller.role).includes(detail.type)) throw notFound('Invoice');
  if (!seesCompanyCredits(caller.role) && await isPointsDebitNote(trx, caller.partnerId, detail.id)) throw notFound('Invoice');
  // How a Purchase invoice was paid names the points it took, and points go first: what the company held then. Members
  // and guests see what it costs and what is still due, not how it was paid (as its receipt: src/payments/receipts).
  return seesCompanyCredits(caller.role) ? detail : { ...detail, payments: [] };
}

/** One of the organisation's invoices: lines, totals, payments, statement; and whether this user may pay it. */
export async function portalGetInvoice(ctx: Ctx, input: { invoiceId: string }): Promise<InvoiceDetail & { canPay: boolean; cannotPayReason: string | null; paymentAttempts: PortalPaymentAttempt[] }> {
  const caller = portalCaller(ctx.principal);
  // One transaction: the detail, what is due and the latest pay attempts.
  return inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const detail = await visibleDetail(trx, caller, input.invoiceId, ctx.clock.now());
    // What is due, as the detail shows it (whole minor units: parsed back exactly).
    const amountDueMicros = parseAmount(detail.amountDue, detail.currency as Currency, 'amountDue').toString();
    const attempts = !seesCompanyCredits(caller.role) ? [] : await trx.selectFrom('invoicePayAttempts')
      .select(['id', 'status', 'currency', 'amountMicros', 'pointsMicros', 'cardMicros', 'failureReason', 'failureCode', 'createdAt', 'completedAt'])
      .where('partnerId', '=', caller.partnerId).where('customerId', '=', caller.customerId).where('invoiceId', '=', detail.id)
      .orderBy('id', 'desc').limit(10).execute();
    const fmt = (m: string) => formatDecimal(BigInt(m), detail.currency as Currency);
    return {
      ...detail,
      ...payabilityOf(caller, { type: detail.type, status: detail.status, informational: detail.informational, amountDueMicros }),
      paymentAttempts: attempts.map((a) => ({
        id: a.id, status: a.status, amount: fmt(a.amountMicros), pointsUsed: fmt(a.status === 'failed' ? '0' : a.pointsMicros), cardAmount: fmt(a.cardMicros),
        failureReason: a.failureReason ?? a.failureCode, createdAt: a.createdAt.toISOString(), completedAt: a.completedAt?.toISOString() ?? null,
      })),
    };
  });
}

/** The invoice as a PDF, the same figures as the screen. */
export async function portalGetInvoicePdf(ctx: Ctx, input: { invoiceId: string }): Promise<{ filename: string; pdf: Buffer }> {
  const caller = portalCaller(ctx.principal);
  const { detail, logo } = await inScope(ctx.db, { kind: 'customer', partnerId: caller.partnerId, customerId: caller.customerId }, async (trx) => {
    const found = await visibleDetail(trx, caller, input.invoiceId, ctx.clock.now());
    return { detail: found, logo: found.seller.hasLogo ? await loadInvoiceLogoOf(trx, caller.partnerId, found.id) : null };
  });
  const pdf = await renderInvoicePdf(detail, { logo, generatedAt: ctx.clock.now() });
  return { filename: `${detail.number ?? detail.id}.pdf`, pdf };
}
