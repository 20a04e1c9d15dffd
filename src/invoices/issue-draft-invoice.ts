import assert from 'node:assert/strict';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import type { AccountCode } from '../platform/db-types.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { partnerCaller } from '../access/caller.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { utcDay } from '../topup/dates.ts';
import { ADMIN_FEE_DESCRIPTION, applyPolicy, policyInForce, type TopUpPolicy } from '../topup/top-up-policy.ts';
import { nextInvoiceNumber } from './invoice-numbers.ts';
import type { DraftLine } from './invoices.db-types.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';
import { currentBillTo, draftTotals, invoiceCurrency, loadInvoiceDetail, partnerTaxRate } from './invoice-views.ts';

/**
 * Issue a draft (the Invoice app): draft -> awaiting_payment, in one transaction with its ledger entry, audit event and
 * notification. The draft row is locked first, so two concurrent issues of one draft issue it once (the second sees it
 * issued: 409 `invoice_not_draft`); numbers come from the type's series, gapless in commit order (invoice-numbers.ts).
 * - lines: the draft lines computed again at the partner's tax rate of the day (computeInvoiceTotals), written as
 *   `invoice_lines` rows; the draft lines are cleared; total must be above 0 (422 `invoice_total_zero`);
 * - bill-to: a snapshot of the customer's billing contact (or its name); due `dueDays` after issue (the draft's, else the
 *   partner's `invoice_due_days`), recorded in `due_days`;
 * - ledger: a Purchase invoice posts Dr `receivable:{c}` total · Cr revenue · Cr `tax_payable` (revenue:one_time for free-text
 *   lines, revenue:subscription for catalog products, revenue:usage for usage products; docs/adr/0012-invoice-totals.md);
 *   a Top-up invoice posts nothing at issue: it asks for a deposit, and points are added when it is paid (Finance app);
 * - a Top-up invoice follows the partner's top-up policy in force on the issue day (src/topup/top-up-policy.ts, docs/adr/0043):
 *   points below its minimum are 422 `rule_violation` naming `lines`, nothing written and no number taken; below its fee
 *   threshold an `admin_fee` line is added (no tax), paid first by allocations (src/payments/allocate-payment.ts);
 * - audit `invoice.issued`; notification `invoice_issued` to the billing email, else the owner.
 */
export async function issueDraftInvoice(ctx: Ctx, input: { invoiceId: string }): Promise<InvoiceDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    await issueDraftInTransaction(trx, ctx, input.invoiceId);
    return (await loadInvoiceDetail(trx, { partnerId, invoiceId: input.invoiceId, now: ctx.clock.now() }))!;
  });
}

export interface IssuedDraft {
  id: string;
  number: string;
  totalMicros: bigint;
  entryId: string | null;
}

/** The revenue account a line's pre-tax net is credited to. */
export function revenueCodeOf(kind: string, productType: string | null): Extract<AccountCode, `revenue:${string}`> {
  if (kind !== 'product') return 'revenue:one_time';
  return productType === 'usage' ? 'revenue:usage' : 'revenue:subscription';
}

/** Where an invoice notice goes: the billing email, else the owner (active or invited). Null when the customer has neither. */
export async function invoiceRecipient(trx: Trx, partnerId: string, customerId: string): Promise<{ email: string; userId: string | null } | null> {
  const c = await trx.selectFrom('customers').select('billingEmail').where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirstOrThrow();
  if (c.billingEmail) return { email: c.billingEmail, userId: null };
  const owner = await trx.selectFrom('users').select(['id', 'email'])
    .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('customerRole', '=', 'owner').where('status', '<>', 'disabled')
    .orderBy('createdAt').executeTakeFirst();
  return owner ? { email: owner.email, userId: owner.id } : null;
}

export function portalInvoiceLink(ctx: Pick<Ctx, 'config'>, invoiceId: string): string {
  return `${ctx.config.publicUrl.replace(/\/$/, '')}/portal/invoices/${invoiceId}`;
}

/** Issue the draft inside the caller's transaction (create with `issue: true`, and the issue route). */
export async function issueDraftInTransaction(trx: Trx, ctx: Ctx, invoiceId: string): Promise<IssuedDraft> {
  const { partnerId } = partnerCaller(ctx.principal);
  const draft = await trx.selectFrom('invoices').selectAll().where('partnerId', '=', partnerId).where('id', '=', invoiceId).forUpdate().executeTakeFirst();
  if (!draft) throw notFound('Invoice');
  if (draft.status !== 'draft') {
    throw new DomainError('invoice_not_draft', `Invoice ${draft.number ?? draft.id} is already issued (${draft.status.replace('_', ' ')}): issued invoices never change; correct it with a credit note`);
  }
  const customer = await trx.selectFrom('customers').select(['status', 'name']).where('partnerId', '=', partnerId).where('id', '=', draft.customerId).executeTakeFirstOrThrow();
  if (customer.status !== 'active') throw new DomainError('customer_not_active', `${customer.name} is ${customer.status}: invoices are issued to active customers only`);
  const currency = invoiceCurrency(draft.currency);
  const drafted = draft.draftLines ?? [];
  assert(drafted.length > 0, 'a draft has lines');
  const rateBps = await partnerTaxRate(trx, partnerId);
  const asDrafted = draftTotals(currency, draft.type, drafted, rateBps);
  if (asDrafted.totalMicros <= 0n) {
    throw new DomainError('invoice_total_zero', 'The invoice totals 0: an issued invoice asks for something; add a priced line or lower the discounts', [{ path: 'lines', message: 'total must be above 0' }]);
  }
  const now = ctx.clock.now();
  // A Top-up invoice follows the partner's top-up policy in force on the issue day, as a card top-up does (docs/adr/0043):
  // its points below the minimum are refused before a number is taken; below the fee threshold the admin fee is added as
  // a line of its own (no tax: taxRateBpsFor('top_up') is 0), which an allocation pays first.
  const topUp = draft.type === 'top_up' ? await topUpTerms(trx, partnerId, currency, asDrafted.totalMicros, now) : null;
  const lines = topUp && topUp.feeMicros > 0n ? [...drafted, adminFeeDraftLine(topUp.feeMicros)] : drafted;
  const totals = lines === drafted ? asDrafted : draftTotals(currency, draft.type, lines, rateBps);
  let dueDays = draft.dueDays;
  if (dueDays === null) {
    const s = await trx.selectFrom('partnerSettings').select('invoiceDueDays').where('partnerId', '=', partnerId).executeTakeFirst();
    dueDays = s?.invoiceDueDays ?? 14;
  }
  const dueAt = new Date(now.getTime() + dueDays * 86_400_000);
  const billTo = await currentBillTo(trx, partnerId, draft.customerId);
  const fmt = (m: bigint) => formatDecimal(m, currency);
  // The event joins the audit chain at commit (record-audit.ts: the chain head is locked then, after the number series
  // and the accounts, as in every money transaction), so it can name the number the invoice gets here: an auditor
  // searches the trail by invoice number.
  const number = await nextInvoiceNumber(trx, partnerId, draft.type, now);
  const auditEventId = await recordAudit(trx, ctx, {
    partnerId, customerId: draft.customerId, app: 'invoice', action: 'invoice.issued', targetType: 'invoice', targetId: draft.id,
    changes: {
      status: { before: 'draft', after: 'awaiting_payment' }, number: { before: null, after: number }, type: { after: draft.type },
      subtotal: { after: fmt(totals.subtotalMicros) }, tax: { after: fmt(totals.taxMicros) }, total: { after: fmt(totals.totalMicros) },
      currency: { after: currency }, dueAt: { after: dueAt.toISOString() },
      ...(topUp ? { adminFee: { after: fmt(topUp.feeMicros) }, topUpPolicyVersion: { after: topUp.policy.versionId ?? 'default' } } : {}),
    },
  });

  await trx.updateTable('invoices').set({
    status: 'awaiting_payment', number, issuedAt: now, dueAt, dueDays, billTo: JSON.stringify(billTo), draftLines: null,
    subtotalMicros: totals.subtotalMicros, discountMicros: totals.discountMicros, taxMicros: totals.taxMicros, totalMicros: totals.totalMicros,
    amountDueMicros: totals.totalMicros, updatedAt: now,
  }).where('partnerId', '=', partnerId).where('id', '=', draft.id).execute();
  await trx.insertInto('invoiceLines').values(totals.lines.map((l, i) => ({
    invoiceId: draft.id, partnerId, customerId: draft.customerId, position: i + 1, kind: lines[i]!.kind, description: lines[i]!.description,
    productId: lines[i]!.productId, variantId: lines[i]!.variantId, quantity: l.quantity, unitAmountMicros: l.unitAmountMicros,
    grossMicros: l.grossMicros, discountMicros: l.discountMicros, amountMicros: l.amountMicros, taxCategory: l.taxCategory,
    taxRateBps: l.taxRateBps, taxMicros: l.taxMicros,
  }))).execute();

  let entryId: string | null = null;
  if (draft.type === 'purchase') {
    const productIds = [...new Set(lines.map((l) => l.productId).filter((id): id is string => id !== null))];
    const types = productIds.length === 0 ? new Map<string, string>()
      : new Map((await trx.selectFrom('products').select(['id', 'type']).where('partnerId', '=', partnerId).where('id', 'in', productIds).execute()).map((p) => [p.id, p.type]));
    const revenue = new Map<Extract<AccountCode, `revenue:${string}`>, bigint>();
    totals.lines.forEach((l, i) => {
      const productId = lines[i]!.productId;
      const code = revenueCodeOf(lines[i]!.kind, productId ? types.get(productId) ?? null : null);
      revenue.set(code, (revenue.get(code) ?? 0n) + l.amountMicros);
    });
    const posted = await postEntry(trx, {
      partnerId, currency, customerId: draft.customerId, kind: 'invoice_issued', causeType: 'invoice', causeId: draft.id,
      description: `Invoice ${number}`, auditEventId,
      postings: [
        { code: 'receivable', customerId: draft.customerId, amountMicros: totals.totalMicros },
        ...[...revenue].filter(([, amount]) => amount > 0n).map(([code, amount]) => ({ code, amountMicros: -amount })),
        ...(totals.taxMicros > 0n ? [{ code: 'tax_payable' as const, amountMicros: -totals.taxMicros }] : []),
      ],
    });
    entryId = posted.entryId;
  }

  const to = await invoiceRecipient(trx, partnerId, draft.customerId);
  if (to) {
    const seller = await trx.selectFrom('partners').select('name').where('id', '=', partnerId).executeTakeFirstOrThrow();
    await enqueueNotification(trx, {
      partnerId, customerId: draft.customerId, userId: to.userId, toEmail: to.email, kind: 'invoice_issued',
      subject: `Invoice ${number} from ${seller.name}: ${fmt(totals.totalMicros)} ${currency} due ${dueAt.toISOString().slice(0, 10)}`,
      bodyText: invoiceNoticeText({ seller: seller.name, number, type: draft.type, total: `${fmt(totals.totalMicros)} ${currency}`, dueAt, link: portalInvoiceLink(ctx, draft.id) }),
    });
  }
  return { id: draft.id, number, totalMicros: totals.totalMicros, entryId };
}

/**
 * What the top-up policy in force on `at`'s UTC day asks of a Top-up invoice whose lines buy `pointsMicros` of points:
 * below the minimum, 422 `rule_violation` naming `lines` (the same refusal as a card top-up's, applyPolicy); else the admin
 * fee to add (0 at or above the threshold).
 */
async function topUpTerms(trx: Trx, partnerId: string, currency: Currency, pointsMicros: bigint, at: Date): Promise<{ policy: TopUpPolicy; feeMicros: bigint }> {
  const policy = await policyInForce(trx, partnerId, currency, utcDay(at));
  return { policy, feeMicros: applyPolicy(policy, pointsMicros, 'lines') };
}

/** The admin fee as a line of the issued Top-up invoice: worded as a card top-up's, quantity 1, no product, no tax. */
function adminFeeDraftLine(feeMicros: bigint): DraftLine {
  return {
    kind: 'admin_fee', description: ADMIN_FEE_DESCRIPTION, productId: null, variantId: null, quantity: '1',
    unitAmountMicros: feeMicros.toString(), discountMicros: '0', taxCategory: 'standard',
  };
}

export function invoiceNoticeText(n: { seller: string; number: string; type: string; total: string; dueAt: Date | null; link: string; resent?: boolean }): string {
  const what = n.type === 'top_up' ? 'top-up invoice' : 'invoice';
  return [
    `${n.seller} has ${n.resent ? 'sent you again' : 'issued'} ${what} ${n.number}.`,
    '',
    `Total: ${n.total}`,
    ...(n.dueAt ? [`Due: ${n.dueAt.toISOString().slice(0, 10)}`] : []),
    '',
    `See it, download the PDF or pay it in your portal: ${n.link}`,
  ].join('\n');
}
