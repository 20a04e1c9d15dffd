import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { partnerCaller } from '../access/caller.ts';
import { postEntry, type PostingInput } from '../ledger/post-entry.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { documentNumberFormats, documentNumbersTaken, documentNumberTaken, formatInvoiceNumber } from '../invoices/invoice-numbers.ts';
import { invoiceRecipient } from '../invoices/issue-draft-invoice.ts';
import { checkInvoiceCreditable, checkOutcomeChoice, checkOutcomeLimit, computeFor, requestOfDraft, type OutcomeChoice } from './credit-note-input.ts';
import { loadCreditNoteDetail, loadInvoiceCreditFacts, type CreditNoteDetail } from './credit-note-views.ts';
import { creditNoteNotice } from './credit-note-notice.ts';
import { CREDIT_NOTE_REFUND_TASK } from './credit-note-tasks.ts';

/**
 * The partner's next credit note number: its own counter (`credit_note_number_series`, migration 0032; gapless, in commit
 * order, the counter row locked until the caller commits), in the partner's format (`invoice_number_formats.credit_note`,
 * set as `numberFormats.creditNote` in Portal Settings; else DEFAULT_CREDIT_NOTE_FORMAT, CN-{YYYY}-{seq:06}). As for
 * invoices (nextInvoiceNumbers), the counter is taken before the format is read, and a number an issued document already
 * carries is refused: 409 `document_number_taken` (docs/adr/0041).
 */
export async function nextCreditNoteNumber(trx: Trx, partnerId: string, at: Date): Promise<string> {
  const { rows } = await sql<{ last: string }>`select folio_next_credit_note_number(${partnerId})::text as last`.execute(trx);
  const format = (await documentNumberFormats(trx, partnerId)).credit_note;
  const number = formatInvoiceNumber(format, BigInt(rows[0]!.last), at);
  const taken = (await documentNumbersTaken(trx, partnerId, [number])).get(number);
  if (taken) throw documentNumberTaken('credit_note', number, taken);
  return number;
}

export interface IssueOverrides {
  outcome?: OutcomeChoice['outcome'] | undefined;
  refundMethod?: OutcomeChoice['refundMethod'] | undefined;
  refundReference?: string | undefined;
}

/** Issue a draft (POST /credit-notes/:id/issue). Issuing an issued or void one: 409 credit_note_not_draft. */
export async function issueCreditNote(ctx: Ctx, input: { creditNoteId: string } & IssueOverrides): Promise<CreditNoteDetail> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    await issueCreditNoteInTransaction(trx, ctx, input.creditNoteId, input);
    return (await loadCreditNoteDetail(trx, partnerId, input.creditNoteId))!;
  });
}

/**
 * Issue a draft credit note inside the caller's transaction. Lock order (as payments): the customer's wallet, the invoice,
 * then the credit note; the audit chain head, the number series and the accounts after. The draft is computed again
 * against the invoice as it is now (earlier credit notes may have been issued meanwhile) and every limit is checked under
 * the invoice lock, so two credit notes on one invoice at once never exceed what is creditable.
 * Postings (../shared/ledger-design.md): Dr `sales_returns` net · Dr `tax_payable` tax · Cr one of
 *   reduce_due -> `receivable:{c}` (the invoice's amount credited grows, its amount due falls; due 0 -> paid);
 *   points -> `points:{c}`; refund by bank transfer or cheque -> `bank`; refund by card -> `card_clearing`, the gateway refund
 *   itself runs after commit in the `credit_note_refund` job (refund_status pending -> refunded | failed).
 * Audit `credit_note.issued`; the customer is notified (billing email, else the owner).
 */
export async function issueCreditNoteInTransaction(trx: Trx, ctx: Ctx, creditNoteId: string, overrides: IssueOverrides): Promise<void> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  const peek = await trx.selectFrom('creditNotes').select(['customerId', 'currency', 'invoiceId', 'status', 'number'])
    .where('partnerId', '=', partnerId).where('id', '=', creditNoteId).executeTakeFirst();
  if (!peek) throw notFound('Credit note');
  if (peek.status !== 'draft') throw notDraft(peek.number ?? creditNoteId, peek.status);
  const wallet = { partnerId, customerId: peek.customerId, currency: peek.currency };
  await lockWallet(trx, wallet); // opens it when missing
  const facts = (await loadInvoiceCreditFacts(trx, partnerId, peek.invoiceId, { lock: true }))!;
  const draft = await trx.selectFrom('creditNotes').selectAll().where('partnerId', '=', partnerId).where('id', '=', creditNoteId).forUpdate().executeTakeFirstOrThrow();
  if (draft.status !== 'draft') throw notDraft(draft.number ?? creditNoteId, draft.status);
  checkInvoiceCreditable(facts);

  const choice: OutcomeChoice = {
    outcome: overrides.outcome ?? draft.outcome,
    refundMethod: overrides.outcome !== undefined || overrides.refundMethod !== undefined ? overrides.refundMethod ?? null : draft.refundMethod,
    refundReference: overrides.outcome !== undefined || overrides.refundReference !== undefined ? overrides.refundReference ?? null : draft.refundReference,
  };
  checkOutcomeChoice(choice, true);
  const computed = computeFor(facts, requestOfDraft(draft));
  checkOutcomeLimit(facts, choice, computed.totalMicros);

  const currency = facts.invoice.currency;
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const now = ctx.clock.now();
  const customerId = facts.invoice.customerId;
  const entryId = newId('je');
  const auditEventId = await recordAudit(trx, ctx, {
    partnerId, customerId, app: 'finance', action: 'credit_note.issued', targetType: 'credit_note', targetId: draft.id,
    changes: {
      status: { before: 'draft', after: 'issued' }, invoiceId: { after: facts.invoice.id }, invoiceNumber: { after: facts.invoice.number },
      outcome: { after: choice.outcome }, ...(choice.refundMethod ? { refundMethod: { after: choice.refundMethod } } : {}),
      subtotal: { after: fmt(computed.subtotalMicros) }, tax: { after: fmt(computed.taxMicros) }, total: { after: fmt(computed.totalMicros) },
      currency: { after: currency }, reason: { after: draft.reason }, entryId: { after: entryId },
      ...(computed.totalMicros !== BigInt(draft.totalMicros) ? { recomputed: { before: fmt(BigInt(draft.totalMicros)), after: fmt(computed.totalMicros) } } : {}),
    },
  });
  const number = await nextCreditNoteNumber(trx, partnerId, now);

  const counter: PostingInput[] = [
    ...(computed.subtotalMicros > 0n ? [{ code: 'sales_returns' as const, amountMicros: computed.subtotalMicros }] : []),
    ...(computed.taxMicros > 0n ? [{ code: 'tax_payable' as const, amountMicros: computed.taxMicros }] : []),
  ];
  const entry = { entryId, kind: 'credit_note_issued', causeType: 'credit_note', causeId: draft.id, description: `Credit note ${number}`, auditEventId };
  if (choice.outcome === 'points') {
    await creditWallet(trx, { wallet, amountMicros: computed.totalMicros, entry, counterPostings: counter });
  } else {
    const credited = choice.outcome === 'reduce_due' ? { code: 'receivable' as const, customerId }
      : choice.refundMethod === 'card' ? { code: 'card_clearing' as const } : { code: 'bank' as const };
    await postEntry(trx, { ...entry, partnerId, currency, customerId, postings: [...counter, { ...credited, amountMicros: -computed.totalMicros }] });
  }

  if (choice.outcome === 'reduce_due') {
    const due = facts.invoice.amountDueMicros - computed.totalMicros;
    assert(due >= 0n, 'a credit note never takes the amount due below zero');
    const settled = due === 0n;
    await trx.updateTable('invoices').set({
      amountCreditedMicros: facts.invoice.amountCreditedMicros + computed.totalMicros, amountDueMicros: due,
      ...(settled ? { status: 'paid' as const, paidAt: now } : {}), updatedAt: now,
    }).where('partnerId', '=', partnerId).where('id', '=', facts.invoice.id).execute();
  }

  let refundStatus: 'pending' | null = null;
  if (choice.outcome === 'refund' && choice.refundMethod === 'card') {
    refundStatus = 'pending';
    let left = computed.totalMicros;
    const rows = [];
    for (const c of [...facts.cardCharges].sort((a, b) => (b.paidMicros - b.refundedMicros > a.paidMicros - a.refundedMicros ? 1 : -1))) {
      if (left === 0n) break;
      const open = c.paidMicros - c.refundedMicros;
      if (open <= 0n) continue;
      const take = open < left ? open : left;
      rows.push({ partnerId, customerId, creditNoteId: draft.id, gateway: c.gateway, chargeRef: c.chargeRef, currency, amountMicros: take, createdAt: now });
      left -= take;
    }
    assert(left === 0n && rows.length > 0, 'a card refund fits the card charges (checked above)');
    await trx.insertInto('creditNoteRefunds').values(rows).execute();
    await sql`select folio_enqueue_job(${CREDIT_NOTE_REFUND_TASK}, json_build_object('creditNoteId', ${draft.id}::text, 'partnerId', ${partnerId}::text), ${`credit_note_refund:${draft.id}`}::text, 10)`.execute(trx);
  }

  await trx.updateTable('creditNotes').set({
    status: 'issued', number, outcome: choice.outcome, refundMethod: choice.refundMethod, refundReference: choice.refundReference, refundStatus,
    lines: JSON.stringify(computed.lines), subtotalMicros: computed.subtotalMicros, taxMicros: computed.taxMicros, totalMicros: computed.totalMicros,
    costMicros: computed.costMicros, entryId, issuedAt: now, issuedBy: actorId, updatedAt: now,
  }).where('partnerId', '=', partnerId).where('id', '=', draft.id).execute();

  const to = await invoiceRecipient(trx, partnerId, customerId);
  if (to) {
    const seller = await trx.selectFrom('partners').select('name').where('id', '=', partnerId).executeTakeFirstOrThrow();
    const notice = creditNoteNotice({
      seller: seller.name, number, invoiceNumber: facts.invoice.number ?? facts.invoice.id, total: `${fmt(computed.totalMicros)} ${currency}`,
      outcome: choice.outcome!, refundMethod: choice.refundMethod, memo: draft.memo,
      link: `${ctx.config.publicUrl.replace(/\/$/, '')}/portal/invoices/${facts.invoice.id}`,
    });
    await enqueueNotification(trx, { partnerId, customerId, userId: to.userId, toEmail: to.email, kind: 'credit_note_issued', ...notice });
  }
}

export function notDraft(label: string, status: string): DomainError {
  return new DomainError('credit_note_not_draft', `Credit note ${label} is ${status}: only a draft can be changed, issued or voided`);
}
