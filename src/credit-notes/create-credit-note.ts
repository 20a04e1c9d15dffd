import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { unknownId } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { checkInvoiceCreditable, checkOutcomeChoice, checkOutcomeLimit, computeFor, type CreateCreditNoteInput, type OutcomeChoice } from './credit-note-input.ts';
import { loadCreditNoteDetail, loadInvoiceCreditFacts, type CreditNoteDetail } from './credit-note-views.ts';
import { issueCreditNoteInTransaction } from './issue-credit-note.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';

/**
 * Create a credit note against an issued invoice of the partner, as a draft (nothing posted) or issued at once
 * (`issue: true`, same rules as POST /credit-notes/:id/issue). Refused, writing nothing: another partner's invoice (404),
 * a draft, void or Top-up invoice (409 invoice_not_creditable), another currency (422 currency_mismatch), a line quantity
 * or amount above what is left of it (422 credit_exceeds_line), more than the invoice total less earlier credit notes
 * (422 credit_exceeds_creditable), an outcome above its own limit (422 credit_exceeds_due / refund_exceeds_paid).
 * Audited `credit_note.created` (and `credit_note.issued`).
 */
export async function createCreditNote(ctx: Ctx, input: CreateCreditNoteInput): Promise<CreditNoteDetail> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const choice: OutcomeChoice = { outcome: input.outcome ?? null, refundMethod: input.refundMethod ?? null, refundReference: input.refundReference ?? null };
  checkOutcomeChoice(choice, input.issue === true);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const facts = await loadInvoiceCreditFacts(trx, partnerId, input.invoiceId, { lock: false });
    if (!facts) throw unknownId('invoice_not_found', 'invoiceId', 'Invoice');
    checkInvoiceCreditable(facts, input.currency);
    const computed = computeFor(facts, input);
    checkOutcomeLimit(facts, choice, computed.totalMicros);
    const currency = facts.invoice.currency;
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const id = newId('cn');
    const now = ctx.clock.now();
    // Issuing locks the wallet, then the invoice (issueCreditNoteInTransaction). The new row's foreign key share-locks the
    // invoice, which would come before the wallet: two of these at once then each held what the other waited for.
    if (input.issue) await lockWallet(trx, { partnerId, customerId: facts.invoice.customerId, currency });
    await trx.insertInto('creditNotes').values({
      id, partnerId, customerId: facts.invoice.customerId, invoiceId: facts.invoice.id, status: 'draft', currency, mode: input.mode,
      reason: input.reason, memo: input.memo ?? null, ...choice, refundStatus: null, lines: JSON.stringify(computed.lines),
      requestedAmountMicros: input.mode === 'amount' ? computed.totalMicros : null,
      subtotalMicros: computed.subtotalMicros, taxMicros: computed.taxMicros, totalMicros: computed.totalMicros, costMicros: computed.costMicros,
      entryId: null, number: null, issuedAt: null, issuedBy: null, voidedAt: null, voidedBy: null, voidReason: null,
      createdBy: actorId, createdAt: now, updatedAt: now,
    }).execute();
    await recordAudit(trx, ctx, {
      partnerId, customerId: facts.invoice.customerId, app: 'finance', action: 'credit_note.created', targetType: 'credit_note', targetId: id,
      changes: {
        invoiceId: { after: facts.invoice.id }, invoiceNumber: { after: facts.invoice.number }, mode: { after: input.mode }, reason: { after: input.reason },
        total: { after: fmt(computed.totalMicros) }, currency: { after: currency }, lines: { after: computed.lines.length },
        ...(choice.outcome ? { outcome: { after: choice.outcome } } : {}),
      },
    });
    if (input.issue) await issueCreditNoteInTransaction(trx, ctx, id, {});
    return (await loadCreditNoteDetail(trx, partnerId, id))!;
  });
}
