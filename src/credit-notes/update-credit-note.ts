import { sql } from 'kysely';
import { ifMatchMatches } from '../platform/etag.ts';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { checkInvoiceCreditable, checkOutcomeChoice, computeFor, creditLinesBody, outcomeFields, requestOfDraft, type OutcomeChoice } from './credit-note-input.ts';
import { creditNoteEtag, loadCreditNoteDetail, loadInvoiceCreditFacts, type CreditNoteDetail } from './credit-note-views.ts';
import { notDraft } from './issue-credit-note.ts';
import { CREDIT_NOTE_MODES, CREDIT_NOTE_REASONS } from './credit-notes.db-types.ts';

export const updateCreditNoteBody = z.strictObject({
  mode: z.enum(CREDIT_NOTE_MODES).optional().describe('with lines (mode lines) or amount (mode amount); whole takes neither'),
  lines: creditLinesBody.optional(),
  amount: z.string().max(40).optional(),
  reason: z.enum(CREDIT_NOTE_REASONS).optional(),
  memo: z.string().trim().min(1).max(2000).nullable().optional(),
  outcome: outcomeFields.outcome.nullable(),
  refundMethod: outcomeFields.refundMethod.nullable(),
  refundReference: outcomeFields.refundReference.nullable(),
});
export type UpdateCreditNoteInput = z.infer<typeof updateCreditNoteBody>;

/**
 * Change a draft credit note: what it credits (mode with its lines or amount, computed again), reason, memo, outcome.
 * Only drafts (409 credit_note_not_draft); `If-Match` with a stale ETag writes nothing (412). Audited `credit_note.updated`
 * with what changed; a request that changes nothing writes nothing.
 */
export async function updateCreditNote(ctx: Ctx, input: UpdateCreditNoteInput & { creditNoteId: string; ifMatch?: string | undefined }): Promise<{ creditNote: CreditNoteDetail; etag: string }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await trx.selectFrom('creditNotes').selectAll().where('partnerId', '=', partnerId).where('id', '=', input.creditNoteId).forUpdate().executeTakeFirst();
    if (!row) throw notFound('Credit note');
    if (row.status !== 'draft') throw notDraft(row.number ?? row.id, row.status);
    if (input.ifMatch !== undefined) {
      const etag = await creditNoteEtag(trx, partnerId, row.id);
      if (!ifMatchMatches(input.ifMatch, etag)) {
        throw new DomainError('precondition_failed', 'This credit note changed since you read it; reload and try again');
      }
    }
    const facts = (await loadInvoiceCreditFacts(trx, partnerId, row.invoiceId, { lock: false }))!;
    checkInvoiceCreditable(facts);
    const changesWhat = input.mode !== undefined || input.lines !== undefined || input.amount !== undefined;
    const request = changesWhat
      ? { mode: input.mode ?? row.mode, lines: input.lines, amount: input.amount }
      : requestOfDraft(row);
    const computed = computeFor(facts, request);
    const choice: OutcomeChoice = {
      outcome: input.outcome === undefined ? row.outcome : input.outcome,
      refundMethod: input.refundMethod === undefined ? (input.outcome === undefined ? row.refundMethod : null) : input.refundMethod,
      refundReference: input.refundReference === undefined ? (input.outcome === undefined ? row.refundReference : null) : input.refundReference,
    };
    checkOutcomeChoice(choice, false);
    const currency = facts.invoice.currency;
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const before = {
      mode: row.mode, lines: JSON.stringify(row.lines), total: fmt(BigInt(row.totalMicros)), reason: row.reason, memo: row.memo,
      outcome: row.outcome, refundMethod: row.refundMethod, refundReference: row.refundReference,
    };
    const after = {
      mode: request.mode, lines: JSON.stringify(computed.lines), total: fmt(computed.totalMicros), reason: input.reason ?? row.reason,
      memo: input.memo === undefined ? row.memo : input.memo, ...choice,
    };
    const changes = diff(before, after);
    if (Object.keys(changes).length > 0) {
      await trx.updateTable('creditNotes').set({
        mode: after.mode, lines: after.lines, reason: after.reason, memo: after.memo, ...choice,
        requestedAmountMicros: after.mode === 'amount' ? computed.totalMicros : null,
        subtotalMicros: computed.subtotalMicros, taxMicros: computed.taxMicros, totalMicros: computed.totalMicros, costMicros: computed.costMicros,
        updatedAt: sql`greatest(clock_timestamp(), updated_at + interval '1 microsecond')`,
      }).where('partnerId', '=', partnerId).where('id', '=', row.id).execute();
      if (changes.lines) changes.lines = { before: row.lines.length, after: computed.lines.length };
      await recordAudit(trx, ctx, {
        partnerId, customerId: row.customerId, app: 'finance', action: 'credit_note.updated', targetType: 'credit_note', targetId: row.id, changes,
      });
    }
    return { creditNote: (await loadCreditNoteDetail(trx, partnerId, row.id))!, etag: await creditNoteEtag(trx, partnerId, row.id) };
  });
}
